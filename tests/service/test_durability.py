"""Nothing is lost whatever crashes: the server killed with SIGKILL, and a burst of uploads."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter

import pytest

from tests.service.conftest import CORRECTNESS_ONLY, example, rows

pytestmark = [pytest.mark.service, pytest.mark.slow]

VERDICTS = {"fast_strided": 100.0, "bug_pad_slice": 95.0, "unfinished_none": 50.0}


def test_jobs_queued_when_the_server_is_killed_are_all_graded_once_after_a_restart(server_factory):
    server = server_factory(students=6, args=("--jobs", "1")).start()
    sent = {}
    for index, name in enumerate(["fast_strided", "bug_pad_slice", "unfinished_none"] * 2):
        answer = server.submit(f"s{index:02d}", f"{name}.py", example(name))
        assert answer.status_code == 202, answer.text
        sent[answer.json()["id"]] = name
    server.kill9()
    statuses = Counter(row.status for row in rows(server.database(), "select status from submissions"))
    assert statuses["queued"] >= 4 and statuses["graded"] == 0, statuses  # acknowledged, not yet graded

    server.start()
    states = server.wait_done(list(sent))
    assert {job: state["status"] for job, state in states.items()} == {job: "graded" for job in sent}
    assert {job: state["result"]["score"] for job, state in states.items()} == \
        {job: VERDICTS[name] for job, name in sent.items()}
    graded = [row.submission_id for row in rows(server.database(), "select submission_id from results")]
    assert sorted(graded) == sorted(sent)  # one result each: none lost, none twice
    if statuses["running"]:
        assert "re-queued" in server.log()


def test_a_burst_of_200_uploads_from_20_students_is_acknowledged_and_each_graded_exactly_once(server_factory):
    # Each student posts their own file ten times at once. A student's identical uploads share
    # one grading (grader.service.db.reuse_result), so the burst costs 20 gradings, not 200,
    # with the cheapest real course configuration: correctness only, one hidden case.
    # Acknowledgement latency is the benchmark's (make bench-service), not this test's.
    server = server_factory(students=20, config={**CORRECTNESS_ONLY, "hidden_cases": 1},
                            args=("--rate-limit", "10/600")).start()
    tokens = server.tokens()
    files = {f"s{index:02d}": example("fast_strided") + f"\n# s{index:02d}'s\n".encode() for index in range(20)}
    uploads = [f"s{index % 20:02d}" for index in range(200)]
    answers: list = [None] * len(uploads)
    barrier = threading.Barrier(len(uploads))

    import httpx

    def post(index: int) -> None:
        student = uploads[index]
        with httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {tokens[student]}"}) as client:
            barrier.wait()
            answers[index] = client.post("/api/submissions", files={"file": ("layers.py", files[student])})

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(uploads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [202] * 200, [a.text for a in answers if a.status_code != 202]
    ids = [answer.json()["id"] for answer in answers]
    assert len(set(ids)) == 200

    with server.client("staff") as staff:  # one call a second until the end, then each state once
        deadline = time.monotonic() + 300
        while staff.get("/api/health").json()["graded"] < 200 and time.monotonic() < deadline:
            time.sleep(1)
    states = server.wait_done(ids)
    gradings = {}
    for student, job in zip(uploads, ids):
        result = states[job]["result"]
        assert states[job]["status"] == "graded" and result["score"] == 100.0
        # Each result is of the bytes that student posted: no mix-up between uploads.
        assert result["submission"]["sha256"] == hashlib.sha256(files[student]).hexdigest()
        assert result["submission"]["id"] == student
        gradings.setdefault(student, set()).add((result["graded_at"], result["wall_time_s"]))
    assert {student: len(graded) for student, graded in gradings.items()} == {student: 1 for student in files}
    graded = Counter(row.submission_id for row in rows(server.database(), "select submission_id from results"))
    assert set(graded) == set(ids) and set(graded.values()) == {1}  # one result each: none lost, none twice
