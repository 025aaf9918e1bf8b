"""Errors raised on the host side. Who is at fault decides how a failure is reported.

    ConvgradeError
    ├── SubmissionError          the student's fault: the submission cannot be loaded
    │   (bad archive, no functions found, syntax error, notebook not JSON, too large).
    │   Graded as a result with score 0 and a message the student can act on.
    ├── UsageError               the caller's fault: bad path, bad option, bad config.
    │   The CLI exits 2; no result is written.
    └── GraderError              the grader's fault: never a zero for the student.
        │                        The result is marked not gradable.
        ├── SandboxUnavailable   the backend cannot start (no Docker engine, no image).
        ├── SandboxTimeout       the harness did not answer before its deadline.
        ├── SandboxCancelled     the run was cancelled (a batch stopping).
        └── HarnessProtocolError the harness crashed or its report was malformed.
"""

from __future__ import annotations


class ConvgradeError(Exception):
    """Base of everything convgrade raises on purpose."""


class SubmissionError(ConvgradeError):
    """The submission itself is unusable; ``hint`` says what the student can do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UsageError(ConvgradeError):
    """The grader was called wrongly (missing file, bad option, invalid config)."""


class GraderError(ConvgradeError):
    """The grader failed; the submission is not gradable, and is never given a zero."""

    scratch_left: tuple[str, ...] = ()
    """Set by a backend when the failed run's scratch could not be wholly removed (SandboxRun)."""


class SandboxUnavailable(GraderError):
    """The sandbox backend cannot run (for example the Docker engine is not reachable)."""


class SandboxTimeout(GraderError):
    """The harness gave no report before its wall-clock deadline."""


class SandboxCancelled(GraderError):
    """The run was cancelled (``Sandbox.cancel``: a batch stopping); its report is dropped."""


class HarnessProtocolError(GraderError):
    """The harness exited abnormally or printed something that is not a valid report."""
