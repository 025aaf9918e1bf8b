"""A sandbox that runs nothing, for tests: it answers each run as the test scripted it.

    sandbox = FakeSandbox([report, HarnessProtocolError("boom"), FakeSandbox.UNTIL_CANCELLED])
    sandbox.run(job)   -> the first answer: a report (returned), or an exception (raised)
    sandbox.cancel()   -> every run waiting UNTIL_CANCELLED raises SandboxCancelled
    sandbox.close()    -> cancel, and any later run raises SandboxUnavailable

An answer may also be a function of the job (returning a report or UNTIL_CANCELLED, or raising). The fake
keeps what happened (``calls``, ``jobs``, ``cancelled_runs``, ``closed``), so a test can
assert how the grading and the executor used the interface. It is a real implementation
of ``grader.sandbox.base.Sandbox``: a test written against it can fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Union

from grader.errors import SandboxCancelled, SandboxTimeout, SandboxUnavailable
from grader.harness.text import clean_tree
from grader.sandbox.base import SandboxJob, SandboxRun

Answer = Union[dict, BaseException, Callable[[SandboxJob], dict], str]


class FakeSandbox:
    name = "fake"
    UNTIL_CANCELLED = "until cancelled"
    """An answer: the run blocks, as a long grading would, until cancel() or its deadline."""

    def __init__(self, answers: Iterable[Answer] = (), *, default: Answer | None = None):
        """``answers`` are used in order, one per run; once they are used up, ``default``
        answers every run (without one, a further run raises SandboxUnavailable)."""
        self._answers = list(answers)
        self._default = default
        self._lock = threading.Lock()
        self._cancel_event = threading.Event()
        self.jobs: list[SandboxJob] = []
        self.running = 0
        self.cancels = 0
        self.cancelled_runs = 0
        self.closed = False
        self.prepared = False
        self.calls: list[str] = []
        """The interface's verbs in the order they were called ("prepare", "run", "cancel", "close")."""

    def prepare(self) -> str | None:
        self.prepared = True
        self.calls.append("prepare")
        return None

    def run(self, job: SandboxJob) -> SandboxRun:
        started = time.monotonic()
        with self._lock:
            if self.closed:
                raise SandboxUnavailable("fake: the sandbox is closed")
            self.jobs.append(job)
            self.calls.append("run")
            if self._answers:
                answer = self._answers.pop(0)
            elif self._default is not None:
                answer = self._default
            else:
                raise SandboxUnavailable(f"fake: no answer scripted for run {len(self.jobs)}")
            cancelled = self._cancel_event  # cancel() sets it and starts a new one for later runs
            self.running += 1
        try:
            if isinstance(answer, BaseException):
                raise answer
            report = answer(job) if callable(answer) else answer
            if isinstance(report, str) and report == self.UNTIL_CANCELLED:
                if not cancelled.wait(job.deadline_s):
                    raise SandboxTimeout(f"fake: the harness gave no report within {job.deadline_s:g} s")
                with self._lock:
                    self.cancelled_runs += 1
                raise SandboxCancelled("fake: the run was cancelled")
        finally:
            with self._lock:
                self.running -= 1
        # As a real backend, never hand the caller an object it could change for the next run.
        return SandboxRun(report=clean_tree(report), wall_time_s=time.monotonic() - started, backend=self.name)

    def cancel(self) -> None:
        with self._lock:
            self.cancels += 1
            self.calls.append("cancel")
            self._cancel_runs()

    def close(self) -> None:
        with self._lock:
            self.calls.append("close")
            self._cancel_runs()
            self.closed = True

    def _cancel_runs(self) -> None:
        self._cancel_event.set()
        self._cancel_event = threading.Event()  # runs started after this are not cancelled

