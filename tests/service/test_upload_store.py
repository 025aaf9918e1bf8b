"""An upload's way to the 202, part by part: the loader's verdict from the checking
processes, and the store's group writes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from grader.harness import assignments
from grader.service.store import ContentStore
from grader.service.upload_check import CheckerUnavailable, UploadChecker
from tests.service.conftest import example

pytestmark = pytest.mark.service
ROOT = Path(__file__).resolve().parents[2]


def test_a_group_of_blobs_is_stored_once_each_by_content_with_no_temporary_file_left(tmp_path):
    store = ContentStore(tmp_path / "store")
    first, second = example("fast_strided"), example("bug_pad_slice")
    digests = store.put_many([first, second, first])
    assert digests[0] == digests[2] != digests[1]
    assert store.all() == set(digests) and store.get(digests[1]) == second
    assert store.put(first) == digests[0]  # already there: nothing rewritten
    assert sorted(path.name for path in (tmp_path / "store").rglob("*") if path.is_file()) == sorted(set(digests))


def test_a_checking_process_that_dies_costs_one_answer_and_the_next_upload_is_checked(tmp_path):
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-conv"), workers=1)
    try:
        checker.warm()
        assert asyncio.run(checker.refusal("s00.py", b"x = 1\n")).startswith("no file defines")
        assert asyncio.run(checker.refusal("s00.py", example("fast_strided"))) is None
        for process in list(checker.pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
            process.join()
        with pytest.raises(CheckerUnavailable):
            asyncio.run(checker.refusal("s00.py", example("fast_strided")))
        assert asyncio.run(checker.refusal("s00.py", example("fast_strided"))) is None  # a fresh pool
    finally:
        checker.close()
    assert not (tmp_path / "checking").exists()


def functions(assignment: str) -> tuple[str, ...]:
    return tuple(assignments.get(assignment).STUDENT_FUNCTIONS.values())


def test_uploads_are_checked_for_the_served_assignments_functions(tmp_path):
    """A service serving max pooling takes a max-pool file and refuses a convolution, with the loader's words."""
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-maxpool"), workers=1)
    try:
        checker.warm()
        maxpool = (ROOT / "submissions" / "maxpool" / "naive_loops.py").read_bytes()
        assert asyncio.run(checker.refusal("s00.py", maxpool)) is None
        refusal = asyncio.run(checker.refusal("s00.py", example("fast_strided")))
        assert refusal.startswith("no file defines") and "max_pool_forward_naive" in refusal
    finally:
        checker.close()
