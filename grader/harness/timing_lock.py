"""The batch's timing lock: while one grading times, no other grading of the batch runs.

Its own module because two sides use it: the host creates its files once per batch
(``grade-all --exclusive-timing``), and each harness takes it around its cases and its
timing phases. It reads no clock and computes no figure (that is ``timing``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os


class TimingLock:
    """A readers-writer lock shared by the gradings of one batch: two files in a folder
    only the host's user can reach (flock).

    Each correctness case holds it shared; a timing phase holds it exclusively, so no
    timed trial runs while another grading computes: on a small VM, two vCPUs can share
    one physical core's units and caches, so a grading on "its own core" still feels
    its neighbour. The turnstile gives a waiting timing precedence over new cases, and
    holding the shared lock per case (not per grading) bounds its wait to one case.
    Without a folder (one grading alone) it does nothing. Opt-in for a batch
    (``grade-all --exclusive-timing``): measured here, it made two jobs no faster than
    one, since timing dominates a grading.
    """

    READERS_WRITER, TURNSTILE = "readers-writer.lock", "turnstile.lock"

    def __init__(self, folder: str | None):
        # Opened read-only (flock needs no more), before the sandbox hides anything: in a
        # container, root has no DAC override on a folder the host's user created.
        # The fds are not inherited by workers.
        self.fds = None
        if folder:
            self.fds = tuple(os.open(os.path.join(folder, name), os.O_RDONLY)
                             for name in (self.READERS_WRITER, self.TURNSTILE))

    @classmethod
    def create_files(cls, folder: str) -> None:
        """The host makes the lock's files, readable by its own user only."""
        for name in (cls.READERS_WRITER, cls.TURNSTILE):
            os.close(os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT, 0o600))

    @contextlib.contextmanager
    def _held(self, mode: int):
        if self.fds is None:
            yield
            return
        readers_writer, turnstile = self.fds
        fcntl.flock(turnstile, fcntl.LOCK_EX)  # queue behind a waiting timing
        try:
            fcntl.flock(readers_writer, mode)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(readers_writer, fcntl.LOCK_UN)

    def shared(self):
        return self._held(fcntl.LOCK_SH)

    def exclusive(self):
        return self._held(fcntl.LOCK_EX)
