"""The rate limit holds when a student's uploads arrive together: the count and the insert
are one transaction under a lock per student, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.service.conftest import example, rows

pytestmark = pytest.mark.service

SIMULTANEOUS = 40


def post_together(server, student: str, data: bytes, count: int) -> list[httpx.Response]:
    """``count`` uploads of ``data`` by ``student``, each on its own connection, sent at once."""
    token = server.tokens()[student]
    answers: list = [None] * count
    barrier = threading.Barrier(count)

    def post(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
            barrier.wait()
            answers[index] = client.post("/api/submissions", files={"file": ("layers.py", data)})

    threads = [threading.Thread(target=post, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def assert_exactly_the_limit_is_accepted(server, student: str, limit: int, answers) -> None:
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202] * limit + [429] * (SIMULTANEOUS - limit), codes
    for refused in (answer for answer in answers if answer.status_code == 429):
        assert refused.json()["detail"].startswith(f"at most {limit} submissions per 600 s; try again in")
        assert 0 < int(refused.headers["Retry-After"]) <= 601


def test_forty_simultaneous_uploads_against_a_limit_of_five_get_five_acknowledgements(server_factory):
    server = server_factory(students=2, args=("--rate-limit", "5/600", "--jobs", "1")).start()
    answers = post_together(server, "s00", example("fast_strided"), SIMULTANEOUS)
    assert_exactly_the_limit_is_accepted(server, "s00", 5, answers)
    assert len(rows(server.database(), "select id from submissions where student_id = 's00'")) == 5
    assert server.submit("s01", "a.py", example("fast_strided")).status_code == 202  # per student
