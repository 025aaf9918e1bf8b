"""Uploads whose check is slow cannot stall other students' uploads: a check is bounded in
time, a check whose client hung up is killed, a student's checks run one at a time, and
refused uploads count in a limit of their own."""

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


def test_a_check_past_its_time_bound_is_refused_with_a_message_and_nothing_is_stored(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--check-timeout", "1", "--checkers", "2")).start()
    before = stored(server)
    took, answer = timed_submit(server, "s00", SLOW)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("checking the upload took over 1 s, so it was stopped")
    assert took < 8, took
    assert stored(server) == before
    assert server.submit("s01", "a.py", example("fast_strided")).status_code == 202  # the pool is whole again


def test_two_slow_uploads_in_flight_delay_another_students_upload_by_at_most_the_bound(server_factory):
    server = server_factory(students=3, args=("--jobs", "1", "--check-timeout", "2", "--checkers", "2")).start()
    hostile = [threading.Thread(target=timed_submit, args=(server, who, SLOW)) for who in ("s00", "s01")]
    for thread in hostile:
        thread.start()
    time.sleep(0.5)  # both checks are in flight, on both checking processes
    took, answer = timed_submit(server, "s02", example("fast_strided"))
    for thread in hostile:
        thread.join(timeout=60)
    assert answer.status_code == 202, answer.text
    assert took < 6, f"the honest upload waited {took:.1f} s"


def test_checks_whose_clients_hung_up_are_killed_and_hold_no_checking_process(server_factory):
    # A bound long enough that only the hang-up can free a checking process in time.
    server = server_factory(students=5, args=("--jobs", "1", "--check-timeout", "60", "--checkers", "2")).start()
    gone = [threading.Thread(target=post_and_hang_up, args=(server, f"s0{index}", SLOW, 1.0)) for index in range(4)]
    for thread in gone:
        thread.start()
    for thread in gone:
        thread.join(timeout=30)
    took, answer = timed_submit(server, "s04", example("fast_strided"))
    assert answer.status_code == 202, answer.text
    assert took < 6, f"the honest upload waited {took:.1f} s"


def test_one_students_simultaneous_slow_uploads_hold_one_checking_process(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--check-timeout", "3", "--checkers", "2",
                                              "--refusal-limit", "100/600")).start()
    answers: list = []
    hostile = [threading.Thread(target=lambda: answers.append(timed_submit(server, "s00", SLOW)[1]))
               for _ in range(3)]
    for thread in hostile:
        thread.start()
    time.sleep(0.5)
    took, answer = timed_submit(server, "s01", example("fast_strided"))
    assert answer.status_code == 202, answer.text
    assert took < 2, f"the honest upload waited {took:.1f} s"
    for thread in hostile:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [422] * 3  # each checked in turn, each past its bound


def test_refused_uploads_count_in_a_limit_of_their_own(server_factory):
    server = server_factory(students=2, args=("--jobs", "1", "--refusal-limit", "3/600", "--rate-limit", "5/600")).start()
    for _ in range(3):
        refused = server.submit("s00", "a.py", b"x = 1\n")
        assert refused.status_code == 422 and refused.json()["detail"].startswith("no file defines")
    limited = server.submit("s00", "a.py", example("fast_strided"))
    assert limited.status_code == 429, limited.text
    assert limited.json()["detail"].startswith("too many refused uploads: at most 3 per 600 s")
    assert 0 < int(limited.headers["Retry-After"]) <= 601
    assert server.submit("s01", "a.py", example("fast_strided")).status_code == 202  # per student
