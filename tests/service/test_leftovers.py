"""A server killed mid-upload leaves nothing running or lying around: its helpers die with
it, and the next start removes what an earlier server left (temporary files in the store,
processes that carry its run's marker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.service.conftest import example
from tests.service.test_hostile_checks import SLOW, post_and_hang_up

pytestmark = pytest.mark.service


def children(pid: int) -> dict[int, tuple[int, ...]]:
    """Every living descendant of ``pid``, with its parent and process group."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rindex(b")") + 2:].split()
            if fields[0] != b"Z":
                table[int(entry.name)] = int(fields[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in table.items():
            if its_parent == parent and child not in found:
                found[child] = parent
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().split(b") ")[1][:1] != b"Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_the_checkers_and_the_harness_of_a_killed_server_die_with_it(server_factory):
    server = server_factory(students=2, config={}, args=("--jobs", "1", "--check-timeout", "60")).start()
    job = server.submit("s00", "naive.py", example("naive_loops"))  # timed: a grading of many seconds
    assert job.status_code == 202, job.text
    post_and_hang_up(server, "s01", SLOW, 0.3)  # a check the server is still busy with (60 s bound)
    deadline = time.monotonic() + 60
    while not any(b"grader.harness" in Path(f"/proc/{pid}/cmdline").read_bytes()
                  for pid in children(server.process.pid) if alive(pid)):
        assert time.monotonic() < deadline, "no harness started"
        time.sleep(0.2)
    helpers = children(server.process.pid)
    assert len(helpers) >= 4, helpers  # a checker's forkserver and processes, the harness and its workers

    os.kill(server.process.pid, signal.SIGKILL)  # the server alone, not its process group
    server.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while [pid for pid in helpers if alive(pid)]:
        assert time.monotonic() < deadline, f"still running 10 s after the server died: " \
            f"{[Path(f'/proc/{pid}/cmdline').read_bytes()[:80] for pid in helpers if alive(pid)]}"
        time.sleep(0.2)


def test_the_next_start_removes_an_earlier_servers_temporary_files_and_marked_processes(server_factory):
    server = server_factory(students=1)
    server.data.mkdir(mode=0o700)
    folder = server.data / "store" / "ab"
    folder.mkdir(parents=True)
    left = folder / ".upload.tmp"
    left.write_bytes(b"\0" * 2**20)
    os.utime(left, (time.time() - 60, time.time() - 60))
    blob = folder / ("ab" + "0" * 62)
    blob.write_bytes(b"kept")

    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                              env={**os.environ, "CONVGRADE_SERVICE_RUN": "earlier-run"})
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        # The dead server's record: no process has pid 2**22 (Linux's PID_MAX_LIMIT).
        (server.data / "server.json").write_text(json.dumps({"pid": 2**22, "started": 1, "marker": "earlier-run"}))
        server.start()
        assert orphan.wait(timeout=10) == -signal.SIGKILL
        assert bystander.poll() is None
    finally:
        for process in (orphan, bystander):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not left.exists() and blob.read_bytes() == b"kept"
    assert "killed 1 process(es) an earlier server left running" in server.log()
    assert "removed 1 temporary file(s) an earlier server left in the store" in server.log()
