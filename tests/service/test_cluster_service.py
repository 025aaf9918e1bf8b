"""The service on a real Dask cluster: a scheduler and `convgrade worker` processes on
loopback. A worker killed with SIGKILL in the middle of a grading costs nothing: the
scheduler reruns the task on another worker, and the submission is graded once."""

from __future__ import annotations

import os
import time

import pytest

from tests.cluster.test_cluster import Processes, free_port
from tests.service.conftest import example, rows

pytestmark = [pytest.mark.service, pytest.mark.cluster, pytest.mark.slow]

# Sleeping at import makes the grading last long enough to be killed in the middle of it.
SLOW_IMPORT_S = 5


def test_a_worker_killed_mid_grading_costs_nothing(server_factory, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes(logs)
    try:
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        procs.scheduler(port)
        core = sorted(os.sched_getaffinity(0))[-1]
        first = procs.worker("first", address, core)
        procs.wait_joined("first")
        server = server_factory(students=2, args=("--scheduler", address)).start()

        slow = f"import time\ntime.sleep({SLOW_IMPORT_S})\n".encode() + example("fast_strided")
        job = server.submit("s00", "layers.py", slow).json()["id"]
        quick = server.submit("s01", "layers.py", example("bug_pad_slice")).json()["id"]
        with server.client("staff") as staff:
            deadline = time.monotonic() + 60
            while staff.get(f"/api/submissions/{job}").json()["status"] != "running":
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.1)
            assert staff.get("/api/health").json()["workers"] == 1
        time.sleep(2)  # inside the student's import now
        os.killpg(first.pid, 9)
        first.wait(timeout=30)

        procs.worker("second", address, core)
        states = server.wait_done([job, quick], timeout=120)
        assert states[job]["status"] == "graded" and states[job]["result"]["score"] == 100.0
        assert states[quick]["status"] == "graded" and states[quick]["result"]["score"] == 95.0
        graded = sorted(row.submission_id for row in rows(server.database(), "select submission_id from results"))
        assert graded == sorted([job, quick])
    finally:
        procs.stop_all()
