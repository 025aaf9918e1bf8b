"""The sandbox interface: one way in (a job), one way out (the harness's JSON report).

A backend starts the trusted harness (``python -m grader.harness``) somewhere isolated,
hands it the job as JSON on its standard input, and returns the single JSON document
the harness printed on its standard output. Nothing the student wrote reaches the
host by any other path: the student's own output is captured by the harness and
comes back as a (truncated) string field inside that document.

Backends: ``process`` (a locked-down local process tree, the embedded default) and
``docker`` (one fresh, hardened container per submission).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.errors import HarnessProtocolError, SandboxUnavailable
from grader.harness.text import clean_tree
from grader.sandbox.placement import Placement

# The harness report is small (checks, messages, timings and a capped output excerpt);
# anything larger means something is wrong, and we refuse to parse it.
MAX_REPORT_BYTES = 4 * 1024 * 1024


# Private uids, a pair per run: student, reference. The kernel counts processes per
# uid across every container and process tree on the host (RLIMIT_NPROC), and a uid
# shared by two gradings lets one student's worker signal or read the other's, so two
# concurrent runs must never share a pair. Within one grader process, runs at once
# differ by slot; across processes, each claims a base of its own in a range no account
# uses, by holding an exclusive lock on that base's file until it exits.
UID_RANGE = (100_000, 160_000)
MAX_SLOTS = 1024
UID_LOCK_DIRS = ("/run/lock", "/var/lock", "/tmp")
_claimed: list = []  # [(base, open lock file)] once claimed: held for the process's life


def _lock_dir() -> str:
    return next((d for d in UID_LOCK_DIRS if os.path.isdir(d) and os.access(d, os.W_OK)), "/tmp")


def _claim_uid_base() -> int:
    """A uid base no other grader process on this host holds (see above)."""
    if _claimed:
        return _claimed[0][0]
    bases = [UID_RANGE[0] + 2 * MAX_SLOTS * i for i in range((UID_RANGE[1] - UID_RANGE[0]) // (2 * MAX_SLOTS))]
    random.SystemRandom().shuffle(bases)
    while True:  # every base taken: wait for one to be free rather than share it
        unreadable = 0
        for base in bases:
            path = os.path.join(_lock_dir(), f"convgrade-uids-{base}.lock")
            # Readable by all (flock needs no more), so that graders of different users share
            # one claim space; an older file another user made unreadable stays theirs.
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            except PermissionError:
                unreadable += 1
                continue
            with contextlib.suppress(OSError):  # past the umask; EPERM: another user's file
                os.fchmod(fd, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _claimed.append((base, fd))
            return base
        if unreadable == len(bases):  # nothing will ever free one: say so instead of waiting forever
            raise SandboxUnavailable(
                f"every private-uid lock file in {_lock_dir()} (convgrade-uids-*.lock) belongs to another user and "
                "is unreadable (made by an older convgrade): remove them (they are empty) or grade as that user")
        time.sleep(0.2)


def private_uid_pair(slot: int = 0) -> int:
    """The student's uid for a run in ``slot``; the reference worker gets the next one."""
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot {slot} is outside 0..{MAX_SLOTS - 1}")
    return _claim_uid_base() + 2 * slot


@dataclass(frozen=True)
class SandboxJob:
    """Everything a backend needs to run the harness on one submission."""

    submission_root: Path
    """Staged copy of the student's files; the sandbox exposes it read-only."""
    entry: str
    """Path of the module defining the functions, relative to ``submission_root``."""
    harness_config: dict[str, Any]
    """JSON-ready config for the harness (seed, cases, limits, timing budget)."""
    deadline_s: float
    """Wall-clock limit for the whole run; past it the sandbox is killed."""
    placement: Placement = field(default_factory=Placement)
    """Which core and uid slot, what to hide, the batch's timing lock (placement.Placement)."""


@dataclass(frozen=True)
class SandboxRun:
    """What came back: the harness report, plus diagnostics for the grader's own errors."""

    report: dict[str, Any]
    wall_time_s: float
    backend: str
    diagnostics: str = ""
    scratch_left: tuple[str, ...] = ()
    """What the backend could not remove of the run's scratch on the grading host: a count,
    then the first paths and why (empty when everything was removed)."""


class Sandbox(Protocol):
    """What the grading and the executor may ask of a backend, and nothing more: they never
    look at a backend's processes, containers or attributes (``grader.sandbox.fake``
    implements it for tests)."""

    name: str

    def prepare(self) -> str | None:
        """Make the backend ready for its first run (the docker image built or checked), so
        that no grading waits on it; a line for the log, or None when there was nothing to do."""
        ...

    def run(self, job: SandboxJob) -> SandboxRun:
        """Run the harness on ``job``.

        Raises a ``grader.errors.GraderError`` subclass when the grader (not the student)
        failed: the backend is unavailable, the harness crashed, the deadline passed
        before the harness answered, its report was malformed, or the run was cancelled
        (``SandboxCancelled``).
        """
        ...

    def cancel(self) -> None:
        """End every run of this instance in progress, now, from any thread (a batch
        stopping): their harness and its workers are killed, and ``run`` raises
        ``SandboxCancelled``. Runs started later are not affected."""
        ...

    def close(self) -> None:
        """Cancel what runs and release what the backend holds (its engine connection)."""
        ...


def parse_report(stdout: bytes, *, backend: str) -> dict[str, Any]:
    """Parse the harness's stdout into its report, refusing oversized or malformed output."""
    if len(stdout) > MAX_REPORT_BYTES:
        raise HarnessProtocolError(
            f"{backend}: harness report is {len(stdout)} bytes, over the {MAX_REPORT_BYTES}-byte cap"
        )
    text = stdout.decode("utf-8", errors="replace").strip()
    if not text:
        raise HarnessProtocolError(f"{backend}: harness printed no report")
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessProtocolError(f"{backend}: harness report is not JSON ({exc})") from exc
    if not isinstance(report, dict):
        raise HarnessProtocolError(f"{backend}: harness report is not a JSON object")
    # JSON may carry lone surrogates ("\ud800") and control characters: neither may reach
    # a result file or a terminal (grader.harness.text). The harness cleans what it takes
    # from the student; this is the boundary's own guarantee.
    return clean_tree(report)
