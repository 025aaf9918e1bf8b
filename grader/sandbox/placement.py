"""Where one grading runs on its host and beside what: one value that travels from a
batch's task through ``grade_submission`` and the what-if re-grading into the
sandbox job, instead of five parameters passed one at a time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from grader.harness.contention import QUIET_WAIT_S


@dataclass(frozen=True)
class Placement:
    cpu: int | None = None
    """Core to pin the run to (timing must not share a core); None lets the backend choose."""
    slot: int = 0
    """Index of this run among concurrent ones in this process: it selects the private uids."""
    hide_paths: tuple[Path, ...] = ()
    """Host paths the student must not see (other submissions, results, the grader's source)."""
    timing_lock: Path | None = None
    """A folder only the host's user can reach, shared by a batch's gradings for their
    readers-writer lock: timing phases take it exclusively (harness.timing_lock.TimingLock)."""
    quiet_wait_s: float = QUIET_WAIT_S
    """How long the grading's timing may wait for the host's other cores to go quiet: 0
    where a batch's own parallel gradings are those cores' load (waiting cannot help)."""

    def hiding(self, *paths: Path) -> "Placement":
        """This placement, hiding ``paths`` too."""
        return replace(self, hide_paths=tuple(self.hide_paths) + tuple(paths))


NO_QUIET_WAIT = Placement(quiet_wait_s=0.0)
"""Where a batch's or the service's task starts: its timing never waits for quiet unless
the batch says so (its own parallel gradings are the other cores' load), and its worker
fills in the core and slot."""
