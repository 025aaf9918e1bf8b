"""Uploads whose check is slow cannot stall other students' uploads: no acknowledgement
waits for a check (it runs after the 202), a check is bounded in time, a student's checks
run one at a time, and refused uploads count in a limit of their own."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.service.conftest import example, rows
from tests.service.test_upload_store import slow_to_check

pytestmark = pytest.mark.service

SLOW = slow_to_check()  # 4.7 MiB; its check takes seconds, past every bound below but the hang-up test's


def stored(server) -> tuple[int, int]:
    blobs = sum(1 for path in (server.data / "store").rglob("*") if path.is_file())
    return blobs, len(rows(server.database(), "select id from submissions"))


def timed_submit(server, who: str, data: bytes) -> tuple[float, object]:
    started = time.monotonic()
    answer = server.submit(who, "layers.py", data)
    return time.monotonic() - started, answer


def post_and_hang_up(server, who: str, data: bytes, after_s: float) -> None:
    """Send a whole upload, then close the connection ``after_s`` later without reading the answer."""
    boundary = "hangup"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"layers.py\"\r\n\r\n"
            .encode() + data + f"\r\n--{boundary}--\r\n".encode())
    head = (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.tokens()[who]}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        time.sleep(after_s)


def state_when(server, job_id: int, statuses: set[str], timeout: float = 60) -> tuple[dict, float]:
    """The submission's state once its status is one of ``statuses``, and how long that took."""
    started = time.monotonic()
    with server.client("staff") as client:
        while time.monotonic() - started < timeout:
            state = client.get(f"/api/submissions/{job_id}").json()
            if state["status"] in statuses:
                return state, time.monotonic() - started
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {state['status']} after {timeout} s")


CHECKED = {"running", "graded", "failed", "rejected"}  # past the loader's check


def test_a_check_past_its_time_bound_is_rejected_with_a_message_and_its_bytes_deleted(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--check-timeout", "1", "--checkers", "2")).start()
    before = stored(server)
    took, answer = timed_submit(server, "s00", SLOW)
    assert answer.status_code == 202, answer.text
    assert took < 2, took  # acknowledged without waiting for the check
    state, checked_after = state_when(server, answer.json()["id"], CHECKED)
    assert state["status"] == "rejected", state
    assert state["message"].startswith("checking the upload took over 1 s, so it was stopped")
    assert checked_after < 8, checked_after
    assert stored(server) == (before[0], before[1] + 1)  # its row says why; its bytes are gone
    honest = server.submit("s01", "a.py", example("fast_strided"))  # the pool is whole again
    assert server.wait_done([honest.json()["id"]])[honest.json()["id"]]["status"] == "graded"


def test_two_slow_uploads_in_flight_delay_another_students_check_by_at_most_the_bound(server_factory):
    server = server_factory(students=3, args=("--jobs", "1", "--check-timeout", "2", "--checkers", "2")).start()
    hostile = [threading.Thread(target=timed_submit, args=(server, who, SLOW)) for who in ("s00", "s01")]
    for thread in hostile:
        thread.start()
    time.sleep(0.5)  # both checks are in flight, on both checking processes
    took, answer = timed_submit(server, "s02", example("fast_strided"))
    for thread in hostile:
        thread.join(timeout=60)
    assert answer.status_code == 202, answer.text
    assert took < 2, f"the honest upload's acknowledgement waited {took:.1f} s"
    _, checked_after = state_when(server, answer.json()["id"], CHECKED)
    assert checked_after < 6, f"the honest upload's check waited {checked_after:.1f} s"


def test_uploads_whose_clients_hung_up_are_checked_and_a_full_pool_never_delays_an_acknowledgement(server_factory):
    # A bound long enough that the four slow checks hold both checking processes for the whole test.
    server = server_factory(students=5, args=("--jobs", "1", "--check-timeout", "60", "--checkers", "2")).start()
    gone = [threading.Thread(target=post_and_hang_up, args=(server, f"s0{index}", SLOW, 1.0)) for index in range(4)]
    for thread in gone:
        thread.start()
    for thread in gone:
        thread.join(timeout=30)
    took, answer = timed_submit(server, "s04", example("fast_strided"))
    assert answer.status_code == 202, answer.text
    assert took < 2, f"the honest upload waited {took:.1f} s"
    # A hang-up after the whole body is a lost 202: the upload is stored and waits for its check like any other.
    left = rows(server.database(), "select student_id, status from submissions where student_id != 's04'")
    assert sorted(left) == [(f"s0{index}", "queued") for index in range(4)]


def test_one_students_simultaneous_slow_uploads_hold_one_checking_process(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--check-timeout", "3", "--checkers", "2",
                                              "--refusal-limit", "100/600")).start()
    answers: list = []
    hostile = [threading.Thread(target=lambda: answers.append(timed_submit(server, "s00", SLOW)[1]))
               for _ in range(3)]
    for thread in hostile:
        thread.start()
    for thread in hostile:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [202] * 3
    took, answer = timed_submit(server, "s01", example("fast_strided"))
    assert answer.status_code == 202, answer.text
    assert took < 2, f"the honest upload waited {took:.1f} s"
    _, checked_after = state_when(server, answer.json()["id"], CHECKED)
    assert checked_after < 2, f"the honest upload's check waited {checked_after:.1f} s"  # a process was free
    refused = [state_when(server, answer.json()["id"], CHECKED)[0] for answer in answers]
    assert all(state["status"] == "rejected" and state["message"].startswith("checking the upload took over 3 s")
               for state in refused), refused
    ends = sorted(state["finished_at"] for state in refused)
    assert ends[1] - ends[0] > 2.5 and ends[2] - ends[1] > 2.5, ends  # each checked in turn, each past its bound


def test_refused_uploads_count_in_a_limit_of_their_own(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--refusal-limit", "3/600", "--rate-limit", "5/600")).start()
    for _ in range(3):
        accepted = server.submit("s00", "a.py", b"x = 1\n")
        assert accepted.status_code == 202, accepted.text
        state, _ = state_when(server, accepted.json()["id"], CHECKED)
        assert state["status"] == "rejected" and state["message"].startswith("no file defines")
    limited = server.submit("s00", "a.py", example("fast_strided"))
    assert limited.status_code == 429, limited.text
    assert limited.json()["detail"].startswith("too many refused uploads: at most 3 per 600 s")
    assert 0 < int(limited.headers["Retry-After"]) <= 601
    assert server.submit("s01", "a.py", example("fast_strided")).status_code == 202  # per student
    refused = server.submit("s01", "a.py", b"\0\1binary")  # refused by its bytes, before the 202
    assert refused.status_code == 422 and "not Python source text" in refused.json()["detail"]
