"""SLURM through dask-jobqueue, as far as a machine without SLURM can test it: the job
script docs/operators.md's example writes runs `convgrade worker` with a command line that
worker accepts, and that very command joins the scheduler and grades."""

from __future__ import annotations

import shlex
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch.grade_all import grade_all
from grader.grading.result import GradeResult

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "examples"


def test_the_slurm_job_script_runs_a_convgrade_worker_that_grades(tmp_path, quick_config):
    previous = signal.getsignal(signal.SIGINT)
    try:
        from dask_jobqueue import SLURMCluster  # its runner module replaces the Ctrl-C handler on import
    finally:
        signal.signal(signal.SIGINT, previous)

    cluster = SLURMCluster(
        cores=1, processes=1, memory="2GB", walltime="01:00:00",
        worker_command="grader worker", worker_extra_args=["--sandbox", "process"],
        job_extra_directives=["--exclusive"], python=sys.executable,
        scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
    )
    worker = None
    try:
        script = cluster.job_script()
        assert "#SBATCH --exclusive" in script
        command = script.strip().splitlines()[-1]
        assert f"-m grader worker {cluster.scheduler_address}" in command and "--nthreads 1" in command
        # What the SLURM job would run, run here instead (its name is the job's name).
        log = tmp_path / "worker.log"
        with open(log, "wb") as stream:
            worker = subprocess.Popen(shlex.split(command.replace("dummy-name", "slurm-job-0")), cwd=ROOT,
                                      stdout=stream, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while "joined" not in log.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "1 slot(s)" in log.read_text()

        (tmp_path / "subs").mkdir()
        for name in ("fast_strided.py", "bug_pad_slice.py"):
            shutil.copy(EXAMPLES / name, tmp_path / "subs" / name)
        summary = grade_all(tmp_path / "subs", tmp_path / "out", sandbox_name="process", config=quick_config,
                            scheduler=cluster.scheduler_address, progress=False)
        assert summary.counts["graded"] == 2
        scores = {p.stem: GradeResult.model_validate_json(p.read_bytes()).score
                  for p in (tmp_path / "out" / "results").glob("*.json")}
        assert scores == {"fast_strided": 100.0, "bug_pad_slice": 95.0}
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        cluster.close()
