"""A real cluster on loopback: a Dask scheduler and two `convgrade worker`s as separate
processes, graded against by grade-all. Workers die, the scheduler restarts; every
student must still be graded exactly once, with the right verdict."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader.atomic_write as atomic_write
import grader.batch.grade_all as batch
import grader.batch.outputs as batch_outputs
import grader.batch.run as batch_run
from grader.batch.grade_all import grade_all
from grader.grading.grade import content_seed
from grader.grading.result import GradeResult
from grader.grading.seeds import COURSE_SECRET, SECRET_ENV

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "examples"
BROKEN = "import numpy as np\n\ndef conv_forward_naive(x, w, b, conv_param):\n    return (\n"
# Each verdict differs, so a result filed under the wrong student shows.
VERDICTS = {"fast_strided": 100.0, "bug_pad_slice": 95.0, "unfinished_none": 50.0, "broken": 0.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Processes started by a test, each in its own session; all killed at the end."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        process.log_name = name
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def scheduler(self, port: int) -> subprocess.Popen:
        process = self.start("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                                           "127.0.0.1", "--port", str(port), "--no-dashboard"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
            assert process.poll() is None, self.log("scheduler")
            time.sleep(0.2)
        raise AssertionError(f"the scheduler did not listen: {self.log('scheduler')}")

    def worker(self, name: str, address: str, core: int) -> subprocess.Popen:
        return self.start(name, [sys.executable, "-m", "grader", "worker", address, "--cores", str(core)])

    def wait_joined(self, name: str, times: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log(name).count("joined tcp://") < times:
            assert time.monotonic() < deadline, f"{name} never joined: {self.log(name)}"
            time.sleep(0.2)

    def stop_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # the worker and any harness it left
            process.wait(timeout=30)


@pytest.fixture
def procs(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = Processes(logs)
    yield processes
    processes.stop_all()


def cores_for_two() -> tuple[int, int]:
    usable = sorted(os.sched_getaffinity(0))
    return (usable[0], usable[-1]) if len(usable) > 1 else (usable[0], usable[0])


def make_class(folder: Path, copies: int, *, sleep_s: float = 0.0) -> dict[str, float]:
    """``copies`` students of each verdict; a sleep at import makes each grading last longer."""
    folder.mkdir(parents=True)
    expected = {}
    prefix = f"import time\ntime.sleep({sleep_s})\n" if sleep_s else ""
    for copy in range(copies):
        for name, score in VERDICTS.items():
            source = BROKEN if name == "broken" else (EXAMPLES / f"{name}.py").read_text()
            (folder / f"{name}_{copy}.py").write_text(prefix + source)
            expected[f"{name}_{copy}"] = score
    return expected


def count_writes(monkeypatch) -> dict[str, int]:
    writes: dict[str, int] = {}
    real = atomic_write.write_atomic

    def counting(path, text, **kwargs):
        writes[Path(path).name] = writes.get(Path(path).name, 0) + 1
        return real(path, text, **kwargs)

    for writer in (batch, batch_run, batch_outputs):  # every module of the batch that writes a file
        monkeypatch.setattr(writer, "write_atomic", counting)
    return writes


def assert_graded_once(out: Path, expected: dict[str, float], writes: dict[str, int]) -> None:
    for student_id, score in expected.items():
        result = GradeResult.model_validate_json((out / "results" / f"{student_id}.json").read_bytes())
        assert result.gradable, f"{student_id}: {result.failure}"
        assert (result.submission.id, result.score) == (student_id, score)
        assert result.environment is None or result.environment.host == socket.gethostname()
        assert writes.get(f"{student_id}.json") == 1, f"{student_id} written {writes.get(f'{student_id}.json')} times"


def test_two_workers_grade_a_class(tmp_path, procs, quick_config, monkeypatch):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs.scheduler(port)
    first, second = cores_for_two()
    procs.worker("worker-a", address, first)
    procs.worker("worker-b", address, second)
    procs.wait_joined("worker-a")
    procs.wait_joined("worker-b")
    expected = make_class(tmp_path / "subs", 2)
    writes = count_writes(monkeypatch)
    monkeypatch.setenv(SECRET_ENV, "the course secret, on the client only")

    summary = grade_all(tmp_path / "subs", tmp_path / "out", sandbox_name="process", config=quick_config,
                        scheduler=address, progress=False)

    assert summary.counts["graded"] == len(expected) and summary.counts["not_gradable"] == 0
    assert_graded_once(tmp_path / "out", expected, writes)
    # The workers never see the secret, yet every seed is the one the client's secret gives.
    for student_id in expected:
        result = GradeResult.model_validate_json((tmp_path / "out" / "results" / f"{student_id}.json").read_bytes())
        assert (result.seed, result.seed_derivation) == content_seed(result.submission.sha256, quick_config)
        assert result.seed_derivation == COURSE_SECRET
    assert (tmp_path / "out" / "leaderboard.json").is_file()


def test_a_worker_killed_mid_batch_has_its_grading_redone(tmp_path, procs, quick_config, monkeypatch):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs.scheduler(port)
    first, second = cores_for_two()
    victim = procs.worker("worker-a", address, first)
    procs.worker("worker-b", address, second)
    procs.wait_joined("worker-a")
    procs.wait_joined("worker-b")
    expected = make_class(tmp_path / "subs", 2, sleep_s=1.5)
    writes = count_writes(monkeypatch)
    killed = []
    real_collect = batch_run.BatchRun._collect

    def kill_the_victim_after_the_first_result(self, executor, student, attempt, outcome):
        if not killed and victim_is_grading(victim.pid):
            victim.kill()  # SIGKILL, the worker process alone: its grading is lost mid-way
            killed.append(student.id)
        return real_collect(self, executor, student, attempt, outcome)

    monkeypatch.setattr(batch_run.BatchRun, "_collect", kill_the_victim_after_the_first_result)
    summary = grade_all(tmp_path / "subs", tmp_path / "out", sandbox_name="process", config=quick_config,
                        scheduler=address, progress=False)

    assert killed, "the victim was never caught grading"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert summary.counts["graded"] == len(expected) and summary.counts["not_gradable"] == 0
    assert_graded_once(tmp_path / "out", expected, writes)


def victim_is_grading(pid: int) -> bool:
    """Whether the worker process has a harness child (a grading in progress)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
                if int(stat[1]) == pid and b"grader.harness" in (entry / "cmdline").read_bytes().split(b"\0"):
                    return True
    return False


def test_a_scheduler_restart_is_reported_and_the_batch_resumes(tmp_path, procs, quick_config):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = procs.scheduler(port)
    first, second = cores_for_two()
    procs.worker("worker-a", address, first)
    procs.worker("worker-b", address, second)
    procs.wait_joined("worker-a")
    procs.wait_joined("worker-b")
    expected = make_class(tmp_path / "subs", 2, sleep_s=1.5)
    config = tmp_path / "config.json"
    config.write_text(quick_config.model_dump_json())
    out = tmp_path / "out"
    client = procs.start("client", [sys.executable, "-m", "grader", "grade-all", str(tmp_path / "subs"), "--out",
                                    str(out), "--scheduler", address, "--config", str(config)])
    deadline = time.monotonic() + 120
    while not any((out / "results").glob("*.json")):
        assert time.monotonic() < deadline and client.poll() is None, procs.log("client")
        time.sleep(0.1)
    os.killpg(scheduler.pid, signal.SIGKILL)
    scheduler.wait()
    time.sleep(2)
    procs.scheduler(port)  # the same address, a new scheduler with no memory of the batch

    assert client.wait(timeout=240) == 0, procs.log("client")
    log = procs.log("client")
    assert f"lost the connection to the scheduler at {address}" in log
    assert "scheduler back; resubmitting" in log
    for student_id, score in expected.items():
        result = GradeResult.model_validate_json((out / "results" / f"{student_id}.json").read_bytes())
        assert (result.gradable, result.score) == (True, score), student_id
    assert (out / "leaderboard.json").is_file()
    procs.wait_joined("worker-a", times=2)  # the workers joined the new scheduler by themselves


def test_a_worker_stops_on_sigterm_and_leaves_nothing_running(tmp_path, procs):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs.scheduler(port)
    worker = procs.worker("worker-a", address, cores_for_two()[0])
    procs.wait_joined("worker-a")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, procs.log("worker-a")
    assert "worker stopped" in procs.log("worker-a")


def test_a_scheduler_nobody_listens_on_is_a_clear_error(tmp_path, quick_config):
    (tmp_path / "subs").mkdir()
    shutil.copy(EXAMPLES / "fast_strided.py", tmp_path / "subs")
    with pytest.raises(Exception, match="cannot reach the scheduler at tcp://127.0.0.1"):
        grade_all(tmp_path / "subs", tmp_path / "out", sandbox_name="process", config=quick_config,
                  scheduler=f"tcp://127.0.0.1:{free_port()}", progress=False)


SLEEPER = ("import time\ntime.sleep(120)\n\n"
           "def conv_forward_naive(x, w, b, conv_param):\n    pass\n\n"
           "def conv_backward_naive(dout, cache):\n    pass\n")


def harnesses_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
                if int(stat[1]) == pid and b"grader.harness" in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_ctrl_c_stops_the_batchs_gradings_on_the_workers(tmp_path, procs, quick_config):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs.scheduler(port)
    first, second = cores_for_two()
    workers = [procs.worker("worker-a", address, first), procs.worker("worker-b", address, second)]
    procs.wait_joined("worker-a")
    procs.wait_joined("worker-b")
    (tmp_path / "subs").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "subs" / f"{name}.py").write_text(SLEEPER)
    config = tmp_path / "config.json"
    config.write_text(quick_config.model_dump_json())
    client = procs.start("client", [sys.executable, "-m", "grader", "grade-all", str(tmp_path / "subs"), "--out",
                                    str(tmp_path / "out"), "--scheduler", address, "--config", str(config)])
    deadline = time.monotonic() + 60
    while not all(harnesses_of(worker.pid) for worker in workers):
        assert time.monotonic() < deadline, procs.log("client")
        time.sleep(0.2)
    running = [pid for worker in workers for pid in harnesses_of(worker.pid)]

    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=60) == 130, procs.log("client")
    assert "interrupted" in procs.log("client")
    assert all(harnesses_of(worker.pid) == [] for worker in workers)  # the workers' gradings were killed
    assert not [pid for pid in running if alive(pid)]
    assert all(worker.poll() is None for worker in workers)  # the workers stay, ready for the next batch
    assert not list((tmp_path / "out" / "results").glob("*.json"))
