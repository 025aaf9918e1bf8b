"""The harness's side of a worker's life: a worker in a ptrace stop is hung, not finished
(it is killed and reaped, never left a zombie holding its uid's only task), and a worker
that cannot be started fails that start, never the harness. No seccomp filter here: these
are the harness's own defences, for wherever the filter is missing."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.harness import student_packages, workers
from grader.harness.lockdown import WorkerLimits
from grader.harness.workers import WORKER_FILES, WorkerProcess, WorkerSpec

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ptrace and /proc are Linux's")
HARNESS = Path(workers.__file__).parent

TRACEE = '''
import ctypes
ctypes.CDLL(None).ptrace(0, 0, None, None)  # PTRACE_TRACEME: its parent, the harness, is now its tracer


def conv_forward_naive(x, w, b, conv_param):
    return None
'''


def _spec(tmp_path: Path, source: str) -> WorkerSpec:
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    for name in WORKER_FILES:
        shutil.copy(HARNESS / name, worker_dir)
    views = {role: student_packages.build_view(str(worker_dir / f"packages-{role}"), resolved.entries)
             for role, resolved in (("student", student_packages.for_student([])),
                                    ("worker", student_packages.resolve(student_packages.WORKER_ONLY)))}
    root = tmp_path / "submission"
    root.mkdir()
    (root / "tracee.py").write_text(source)
    # No address-space cap to speak of: set after fork, a cap below what this (test) process
    # has mapped already would fail the start itself.
    limits = WorkerLimits(address_space_bytes=1 << 44, file_size_bytes=1 << 20, open_files=64, cpu_seconds=30)
    return WorkerSpec(role="student", worker_dir=str(worker_dir), root=str(root), entry="tracee.py",
                      functions=("conv_forward_naive",), workdir=str(tmp_path), limits=limits,
                      request_bytes=1 << 16, response_bytes=1 << 16, packages=views["student"],
                      worker_packages=views["worker"])


def _gone(pid: int) -> bool:
    """Reaped: no process, not even a zombie, has this pid any more."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"X"
    except FileNotFoundError:
        return True


def test_a_worker_in_a_ptrace_stop_is_killed_and_reaped(tmp_path):
    worker = WorkerProcess(_spec(tmp_path, TRACEE))
    ready = worker.start(20.0)
    assert ready.ok, ready
    pid = worker.process.pid
    os.kill(pid, signal.SIGCONT)  # held between calls; now any signal stops it for its tracer
    os.kill(pid, signal.SIGUSR1)  # a signal-delivery stop: reported to the harness like an exit would be
    time.sleep(0.2)
    assert not worker.alive
    assert worker.process is None  # stopped and released
    assert _gone(pid), "the stopped worker was left unreaped (a zombie holds its uid's task)"


def test_a_worker_that_cannot_be_started_fails_that_start(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    fds_before = len(os.listdir("/proc/self/fd"))
    worker = WorkerProcess(_spec(tmp_path, TRACEE))
    outcome = worker.start(5.0)
    assert outcome.status == "died" and "could not be started" in outcome.message, outcome
    assert not worker.alive
    worker.stop()  # safe after a failed start
    assert len(os.listdir("/proc/self/fd")) == fds_before, "the pipes or the arena leaked"


def test_a_worker_starts_under_a_parent_holding_many_descriptors(tmp_path):
    """The parent's descriptors are closed only after the pre-exec step, which runs under the
    worker's RLIMIT_NOFILE (64 here): with 80 held, nothing in that step may need a new one."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(80)]
    try:
        worker = WorkerProcess(_spec(tmp_path, "def conv_forward_naive(x, w, b, conv_param):\n    return None\n"))
        ready = worker.start(20.0)
        assert ready.ok, ready
        worker.stop()
    finally:
        for fd in held:
            os.close(fd)
