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
    # The cheapest real course configuration: correctness only, one hidden case per function.
    server = server_factory(students=20, config={**CORRECTNESS_ONLY, "hidden_cases": 1},
                            args=("--rate-limit", "20/600")).start()
    tokens = server.tokens()
    uploads = [(f"s{index % 20:02d}", example("fast_strided") + f"\n# upload {index}\n".encode())
               for index in range(200)]
    answers: list = [None] * len(uploads)
    latencies: list[float] = [0.0] * len(uploads)
    barrier = threading.Barrier(len(uploads))

    import httpx

    def post(index: int) -> None:
        student, data = uploads[index]
        with httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {tokens[student]}"}) as client:
            barrier.wait()
            started = time.perf_counter()
            answers[index] = client.post("/api/submissions", files={"file": ("layers.py", data)})
            latencies[index] = time.perf_counter() - started

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(uploads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [202] * 200, [a.text for a in answers if a.status_code != 202]
    ids = [answer.json()["id"] for answer in answers]
    assert len(set(ids)) == 200

    states = server.wait_done(ids, timeout=900)  # about 100 s on an idle 2-core machine
    for index, job in enumerate(ids):
        result = states[job]["result"]
        assert states[job]["status"] == "graded" and result["score"] == 100.0
        # Each result is of the bytes that student posted: no mix-up between uploads.
        assert result["submission"]["sha256"] == hashlib.sha256(uploads[index][1]).hexdigest()
        assert result["submission"]["id"] == uploads[index][0]
    graded = Counter(row.submission_id for row in rows(server.database(), "select submission_id from results"))
    assert set(graded) == set(ids) and set(graded.values()) == {1}
    latencies.sort()
    print(f"acknowledgement latency under the burst: p50 {latencies[99] * 1000:.0f} ms, "
          f"p95 {latencies[189] * 1000:.0f} ms (measured, not asserted: see bench/bench_service.py)")
