"""One placement (core, uid slot, hidden paths, timing lock, quiet wait) travels from a
batch's task through grade_submission into the sandbox job (grader/sandbox/placement.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from grader.batch import executor
from grader.grading.grade import grade_submission
from grader.harness.contention import QUIET_WAIT_S
from grader.sandbox.base import SandboxRun
from grader.sandbox.placement import NO_QUIET_WAIT, Placement


class RecordingSandbox:
    """Records the jobs it is given; its report is one the host refuses (not gradable)."""

    name = "recording"

    def __init__(self):
        self.jobs = []

    def run(self, job):
        self.jobs.append(job)
        return SandboxRun(report={}, wall_time_s=0.0, backend="process")


def test_hiding_adds_paths_and_leaves_the_original_as_it_was():
    base = Placement(cpu=2, slot=1, hide_paths=(Path("/a"),))
    wider = base.hiding(Path("/b"), Path("/c"))
    assert wider.hide_paths == (Path("/a"), Path("/b"), Path("/c")) and (wider.cpu, wider.slot) == (2, 1)
    assert base.hide_paths == (Path("/a"),)


def test_a_grading_with_no_placement_hides_its_file_and_its_staging(examples_dir, tmp_path):
    sandbox = RecordingSandbox()
    grade_submission(examples_dir / "fast_strided.py", sandbox, seed=1, machine_cache_path=tmp_path / "m.json")
    (job,) = sandbox.jobs
    assert (job.placement.cpu, job.placement.slot, job.placement.timing_lock) == (None, 0, None)
    assert (examples_dir / "fast_strided.py").resolve() in job.placement.hide_paths
    assert any(path.name.startswith("convgrade-stage-") for path in job.placement.hide_paths)
    assert job.harness_config["machine"]["quiet_wait_s"] == QUIET_WAIT_S


def test_a_given_placement_reaches_the_sandbox_job(examples_dir, tmp_path):
    sandbox = RecordingSandbox()
    lock = tmp_path / "lock"
    placement = Placement(cpu=0, slot=3, hide_paths=(tmp_path / "others",), timing_lock=lock, quiet_wait_s=0.5)
    grade_submission(examples_dir / "fast_strided.py", sandbox, seed=1, placement=placement,
                     machine_cache_path=tmp_path / "m.json")
    (job,) = sandbox.jobs
    assert (job.placement.cpu, job.placement.slot, job.placement.timing_lock) == (0, 3, lock)
    assert job.placement.hide_paths[0] == tmp_path / "others"
    assert job.harness_config["machine"]["quiet_wait_s"] == 0.5


def test_a_task_keeps_on_its_worker_only_the_paths_that_exist_there(tmp_path):
    here, lock = tmp_path / "here", tmp_path / "lock"
    here.mkdir()
    lock.mkdir()
    sent = NO_QUIET_WAIT.hiding(here, tmp_path / "elsewhere")
    placed = executor._on_this_host(sent, SimpleNamespace(core=5, index=2))
    assert (placed.cpu, placed.slot, placed.hide_paths, placed.quiet_wait_s) == (5, 2, (here,), 0.0)
    assert placed.timing_lock is None
    locked = executor._on_this_host(Placement(timing_lock=lock), SimpleNamespace(core=1, index=0))
    assert locked.timing_lock == lock
    gone = executor._on_this_host(Placement(timing_lock=tmp_path / "gone"), SimpleNamespace(core=1, index=0))
    assert gone.timing_lock is None
