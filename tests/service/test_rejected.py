"""The loader's check after the 202: an upload it refuses is acknowledged, then `rejected`
with the loader's message, its bytes deleted, not counted against the rate limit; one a
killed server left unchecked is checked at the next start."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from tests.service.conftest import example, rows
from tests.service.test_upload_store import slow_to_check

pytestmark = pytest.mark.service

NO_CONV = b"import numpy as np\n\ndef conv_forward_fast(x, w, b, conv_param):\n    return x\n"
NOTEBOOK_WITHOUT_FUNCTIONS = json.dumps({
    "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": ["import numpy as np\n", "x = np.zeros(3)\n"]}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def blobs(server) -> set[str]:
    return {path.name for path in (server.data / "store").rglob("*") if path.is_file()}


def wait_status(client, job_id: int, wanted: set[str], timeout: float = 60) -> tuple[dict, float]:
    """The state once its status is one of ``wanted``, and how long that took (polled every 20 ms)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = client.get(f"/api/submissions/{job_id}").json()
        if state["status"] in wanted:
            return state, time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {state['status']} after {timeout} s")


def test_a_file_without_the_conv_function_is_acknowledged_then_rejected_with_the_loaders_message(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--rate-limit", "2/600")).start()
    before = blobs(server)
    with server.client("s00") as client:
        seen = []
        for attempt in range(3):  # three refusals: more than the rate limit of two
            accepted = client.post("/api/submissions",
                                   files={"file": ("layers.py", NO_CONV + f"# try {attempt}\n".encode())})
            assert accepted.status_code == 202, accepted.text
            assert accepted.json()["status"] == "queued"
            state, took = wait_status(client, accepted.json()["id"], {"rejected", "graded", "failed"})
            seen.append(took)
            assert state["status"] == "rejected", state
            assert state["message"].startswith("no file defines conv_forward_naive")
            assert state["filename"] == "layers.py" and state["position"] is None and state["result"] is None
        assert statistics.median(seen) < 1.0, seen
        assert blobs(server) == before  # the rejected bytes are gone
        page = client.get("/me").text
        assert "Rejected: the grader could not load this file" in page and "no file defines conv_forward_naive" in page
        # Rejected uploads do not count: both of the limit's submissions are still there.
        good = [client.post("/api/submissions", files={"file": ("layers.py", example(name))}).json()["id"]
                for name in ("fast_strided", "bug_pad_slice")]
        assert client.post("/api/submissions", files={"file": ("layers.py", example("naive_loops"))}).status_code == 429
    states = server.wait_done(good)
    assert [states[job]["status"] for job in good] == ["graded", "graded"]
    described = server.client("s00").get("/openapi.json").json()["components"]["schemas"]["SubmissionState"]
    assert "rejected: the loader refused the file after it was acknowledged" in \
        described["properties"]["status"]["description"]
    assert [s["status"] for s in server.client("s00").get("/api/submissions").json()] == ["rejected"] * 3 + ["graded"] * 2


def test_a_notebook_without_the_functions_is_rejected(server_factory):
    server = server_factory(students=2, args=("--jobs", "1")).start()
    with server.client("s00") as client:
        job = client.post("/api/submissions", files={"file": ("assignment.ipynb", NOTEBOOK_WITHOUT_FUNCTIONS)}).json()["id"]
        state, _ = wait_status(client, job, {"rejected", "graded", "failed"})
    assert state["status"] == "rejected" and state["filename"] == "assignment.ipynb"
    assert state["message"].startswith("no file defines conv_forward_naive"), state["message"]
    assert blobs(server) == set()


def test_an_upload_a_killed_server_left_unchecked_is_checked_at_the_next_start(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--checkers", "1", "--check-timeout", "60")).start()
    slow = server.submit("s00", "layers.py", SLOW)  # holds the one checking process for seconds
    good = server.submit("s01", "layers.py", example("fast_strided"))  # its check waits behind
    assert (slow.status_code, good.status_code) == (202, 202)
    server.kill9()
    left = rows(server.database(), "select id, status, checked from submissions order by id")
    assert [(row.status, bool(row.checked)) for row in left] == [("queued", False), ("queued", False)]

    server.args = ["--jobs", "1", "--check-timeout", "1"]
    server.start()
    states = server.wait_done([good.json()["id"]])
    assert states[good.json()["id"]]["status"] == "graded"
    with server.client("s00") as client:
        state, _ = wait_status(client, slow.json()["id"], {"rejected", "graded", "failed"})
    assert state["status"] == "rejected"
    assert state["message"].startswith("checking the upload took over 1 s, so it was stopped")
    assert "checking 2 upload(s) an earlier server stored but did not check" in server.log()
    assert len(blobs(server)) == 1


SLOW = slow_to_check()
