"""The loader's full check of an upload, after its 202.

An upload is acknowledged once its bytes are durable and its job row committed, queued
but not ``checked``: the dispatcher claims only checked jobs. Right after the 202 its
check runs in the checker's processes (grader.service.upload_check: bounded in time and
memory, one check at a time per student: grader.service.check_limits), and its verdict
goes through the intake's thread: accepted, the job becomes claimable (the dispatcher is
woken); refused, it becomes `rejected` with the loader's message, its bytes are deleted
unless another job names them, it stops counting against the rate limit, and it counts
as one of the student's refused uploads.

A server stopped (or killed) between a 202 and its check leaves the job queued and
unchecked: ``resume`` checks every such job again at the next start, from the store.
"""

from __future__ import annotations

import asyncio
import contextlib

from grader.service import db
from grader.service.check_limits import StudentCheckLimits
from grader.service.intake import Intake
from grader.service.store import ContentStore
from grader.service.upload_check import CheckerUnavailable, UploadChecker

RETRY_S = 0.5
"""After a checking process died (it is being replaced), before the same check is asked again."""
ATTEMPTS = 3
"""Checks of one upload whose process died; past them the upload is refused (it kills the checker)."""


class Verifier:
    def __init__(self, engine, store: ContentStore, intake: Intake, checker: UploadChecker,
                 checks: StudentCheckLimits, *, on_verdict=lambda accepted: None, log=print):
        self.engine = engine
        self.store = store
        self.intake = intake
        self.checker = checker
        self.checks = checks
        self.on_verdict = on_verdict  # wakes the dispatcher and the live pages
        self.log = log
        self.pending: set[asyncio.Task] = set()

    def check_later(self, job_id: int, student_id: str, staff: bool, filename: str, data: bytes) -> None:
        """Check the stored job in the background (call it from the event loop)."""
        task = asyncio.get_running_loop().create_task(self._check(job_id, student_id, staff, filename, data))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def resume(self, staff_ids: frozenset[str]) -> int:
        """Check again every job stored but never checked (a server stopped before); how many."""
        jobs = await asyncio.to_thread(db.unchecked, self.engine)
        for job in jobs:
            try:
                data = await asyncio.to_thread(self.store.get, job.sha256)
            except OSError as exc:  # the store lost it: nothing can grade it
                await asyncio.wrap_future(self.intake.verdict(job.id, f"the upload's bytes are lost ({exc}); "
                                                                      "submit the file again"))
                continue
            self.check_later(job.id, job.student_id, job.student_id in staff_ids, job.filename, data)
        return len(jobs)

    async def _check(self, job_id: int, student_id: str, staff: bool, filename: str, data: bytes) -> None:
        try:
            refusal, content = await self._verdict(student_id, staff, filename, data)
            if refusal is not None and not staff:
                self.checks.refused(student_id)
            await asyncio.wrap_future(self.intake.verdict(job_id, refusal, content))
            self.on_verdict(refusal is None)
        except asyncio.CancelledError:  # the server stops: the job stays unchecked, checked at the next start
            raise
        except Exception as exc:
            self.log(f"job {job_id}: its check failed ({type(exc).__name__}: {exc}); it is checked at the next start")

    async def _verdict(self, student_id: str, staff: bool, filename: str,
                       data: bytes) -> tuple[str | None, str | None]:
        for _ in range(ATTEMPTS):
            try:
                async with (contextlib.nullcontext() if staff else self.checks.one_at_a_time(student_id)):
                    return await self.checker.verdict(filename, data)
            except CheckerUnavailable as exc:
                self.log(f"{exc}; checking the upload again")
                await asyncio.sleep(RETRY_S)
        return (f"checking the upload stopped its checking process {ATTEMPTS} times, so it was refused: the loader "
                "reads a submission without running it, so this file is not one it can accept"), None

    async def close(self) -> None:
        for task in list(self.pending):
            task.cancel()
        for task in list(self.pending):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
