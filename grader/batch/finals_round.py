"""One finals round on a worker: every finalist graded in the round's order, alone on the host.

    run_round(task)            on a worker slot: the round's gradings, one after another (JSON)
    stop_rounds(batch)         on every worker (Client.run): stop this batch's rounds

A round's figures are compared with each other, so no two of its gradings may overlap on
one host, and nothing else of the finals may run beside them: a round is one task, and it
holds the host's finals lock (an exclusive flock on a file of the worker's own user in its
temporary folder) from its first grading to its last. With several slots on a host (the
in-process cluster has one per core), a second round waits for the lock; rounds run in
parallel only on different hosts, and every round's gradings share one host. Each grading
is the batch's own (``executor.grade_task``: the same sandbox, harness and checks); a
grading the grader failed (not gradable) or timed while other cores were busy (contended)
is run once more in its place.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from dataclasses import dataclass, replace

from grader.batch.executor import HOST, GradingTask, _current_slot, grade_task
from grader.errors import GraderError

# How often a round waiting for the host's lock looks again (and whether it was stopped).
LOCK_POLL_S = 0.2

# Batches told to stop (stop_rounds): a waiting or running round of theirs ends at the next look.
_STOPPED: set[str] = set()


@dataclass(frozen=True)
class RoundTask:
    round: int
    gradings: tuple[GradingTask, ...]
    """The finalists' gradings in the round's order."""
    batch: str


class RoundStopped(GraderError):
    """The finals were interrupted; this round's gradings are not kept."""


def host_lock_path() -> str:
    return os.path.join(tempfile.gettempdir(), f"convgrade-finals-{os.getuid()}.lock")


def _take_host_lock(batch: str) -> int:
    """The host's finals lock (blocking, but giving up when the batch is stopped)."""
    fd = os.open(host_lock_path(), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    while True:
        if batch in _STOPPED:
            os.close(fd)
            raise RoundStopped("stopped while waiting for the host")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(LOCK_POLL_S)


def run_round(task: RoundTask) -> str:
    """Run on a worker: the round's gradings in order under the host's finals lock. The
    answer: [{"student_id", "host", "started", "finished", "result": <GradeResult JSON>}]."""
    _current_slot()  # a slot worker, or a clear error
    fd = _take_host_lock(task.batch)
    try:
        done = []
        for grading in task.gradings:
            if task.batch in _STOPPED:
                raise RoundStopped("stopped between gradings")
            started = time.time()
            result = grade_task(grading)
            retried = redo_reason(result)
            if retried:  # not the student's doing: once more, within the round
                started = time.time()
                result = grade_task(replace(grading, attempt=grading.attempt + 1))
            done.append({"student_id": grading.student_id, "host": HOST, "started": started,
                         "finished": time.time(), "result": result, "retried": bool(retried)})
        return json.dumps(done)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def redo_reason(result_json: str) -> str | None:
    """Why a finals grading is run once more in its place: the grader failed (not gradable),
    or some timing pair was taken while other cores were busy (contended), which would
    bias this round's paired ratios. None when it stands."""
    result = json.loads(result_json)
    if not result.get("gradable", True):
        return "the grader failed"
    if any(row.get("contended_pairs", 0) > 0 for row in result.get("timing", [])):
        return "contended"
    return None


def stop_rounds(batch: str, dask_worker=None) -> int:
    """Run on every worker: rounds of ``batch`` stop at their next look (the running
    grading is killed by ``executor.stop_batch``)."""
    _STOPPED.add(batch)
    return 0
