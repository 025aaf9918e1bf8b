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

    async def checks():
        assert (await checker.refusal("s00.py", b"x = 1\n")).startswith("no file defines")
        assert await checker.refusal("s00.py", example("fast_strided")) is None
        for checking in list(checker.processes):
            os.kill(checking.process.pid, signal.SIGKILL)
            checking.process.join()
        with pytest.raises(CheckerUnavailable):
            await checker.refusal("s00.py", example("fast_strided"))
        assert await checker.refusal("s00.py", example("fast_strided")) is None  # a fresh process

    try:
        checker.warm()
        asyncio.run(checks())
    finally:
        checker.close()
    assert not (tmp_path / "checking").exists()


def test_a_check_past_its_time_is_refused_and_its_process_killed_and_replaced(tmp_path):
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-conv"), workers=1, timeout_s=0.5)

    async def checks():
        slow = checker.processes[0].process
        refusal = await checker.refusal("s00.py", slow_to_check())  # seconds of the loader's parse
        assert refusal.startswith("checking the upload took over 0.5 s, so it was stopped")
        assert await checker.refusal("s00.py", example("fast_strided")) is None  # a fresh process took it
        assert slow.exitcode == -signal.SIGKILL
        assert checker.processes[0].process is not slow

    try:
        checker.warm()
        asyncio.run(checks())
    finally:
        checker.close()


def test_a_check_past_its_memory_limit_is_refused_and_its_process_replaced(tmp_path):
    """16 MB of JSON numbers in a notebook's metadata: json.loads needs over 192 MiB for them."""
    limit = 192 << 20
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-conv"), workers=1, memory_bytes=limit)
    hungry = b'{"cells": [], "metadata": {"x": [' + b"0.5," * 4_000_000 + b'0.5]}, "nbformat": 4, "nbformat_minor": 5}'

    async def checks():
        spent = checker.processes[0].process
        refusal = await checker.refusal("s00.ipynb", hungry)
        assert refusal == ("checking the upload needed more than 0.1875 GiB of memory, so it was stopped: the loader "
                           "reads a submission in a few MiB, so this file is not one it can accept (an enormous file, "
                           "notebook or archive?)")
        assert await checker.refusal("s00.py", example("fast_strided")) is None  # a fresh process took it
        assert checker.processes[0].process is not spent

    try:
        checker.warm()
        asyncio.run(checks())
    finally:
        checker.close()


def slow_to_check() -> bytes:
    """A valid module just under the 5 MiB per-file limit, 140,000 lines of nested calls: every
    analysis of student text is linear now, but parsing this much takes the loader seconds
    (6-13 s measured on a 2-core machine), so its check is the slow one."""
    head = b"def conv_forward_naive(x, w, b, conv_param):\n    pass\n"
    return head + b"".join(b"f(g(h(%d), k=[%d, %d]), z)\n" % (i, i, i) for i in range(140_000))


def functions(assignment: str) -> tuple[str, ...]:
    return tuple(assignments.get(assignment).STUDENT_FUNCTIONS.values())


def test_uploads_are_checked_for_the_served_assignments_functions(tmp_path):
    """A service serving max pooling takes a max-pool file and refuses a convolution, with the loader's words."""
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-maxpool"), workers=1)
    try:
        checker.warm()
        maxpool = (ROOT / "submissions" / "maxpool" / "naive_loops.py").read_bytes()

        async def checks():
            return await checker.refusal("s00.py", maxpool), await checker.refusal("s00.py", example("fast_strided"))

        accepted, refusal = asyncio.run(checks())
        assert accepted is None
        assert refusal.startswith("no file defines") and "max_pool_forward_naive" in refusal
    finally:
        checker.close()


def test_an_accepted_checks_content_hash_is_the_one_a_grading_records(tmp_path):
    """The dispatcher seeds a grading from the hash its check answered instead of loading the
    upload again: for a .py and for a zip it is grading's own content_sha256."""
    import io
    import zipfile

    from grader.grading.grade import content_sha256

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cs231n/layers.py", example("fast_strided"))
        archive.writestr("notes.md", b"my notes\n")
    uploads = {"s00.py": example("bug_pad_slice"), "s00.zip": buffer.getvalue()}
    checker = UploadChecker(tmp_path / "checking", functions("cs231n-conv"), workers=1)
    try:
        checker.warm()

        async def checks():
            return {name: await checker.verdict(name, data) for name, data in uploads.items()}

        verdicts = asyncio.run(checks())
    finally:
        checker.close()
    for name, data in uploads.items():
        (tmp_path / name).write_bytes(data)
        assert verdicts[name] == (None, content_sha256(tmp_path / name)), name
    rejected = asyncio.run(_one_verdict(tmp_path, b"x = 1\n"))
    assert rejected[0].startswith("no file defines") and rejected[1] is None


async def _one_verdict(tmp_path, data: bytes):
    checker = UploadChecker(tmp_path / "checking-2", functions("cs231n-conv"), workers=1)
    await asyncio.to_thread(checker.warm)
    try:
        return await checker.verdict("s00.py", data)
    finally:
        checker.close()
