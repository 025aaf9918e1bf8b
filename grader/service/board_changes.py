"""One watcher of the board's version for every open live-board stream.

Each stream used to wake twice a second to compare the dispatcher's version with the one
it last sent: 300 open streams cost a tenth of a core on an idle server. Now one task
looks twice a second while any stream waits, and wakes the streams only when the version
moved (or their idle timeout passed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class BoardChanges:
    POLL_S = 0.5  # how soon a stream hears of a new result (the live page's delay)

    def __init__(self, version: Callable[[], int]):
        self._version = version
        self._changed = asyncio.Event()
        self._waiters = 0
        self._watcher: asyncio.Task | None = None

    async def next_version(self, seen: int, timeout_s: float) -> int:
        """The board's version once it differs from ``seen``, or after ``timeout_s``
        whatever it is then (``seen`` when nothing changed)."""
        now = self._version()
        if now != seen:
            return now
        self._waiters += 1
        try:
            if self._watcher is None or self._watcher.done():
                self._changed = asyncio.Event()
                # The version is read here, before any await: a change after this waiter
                # looked is a change the watcher sees.
                self._watcher = asyncio.create_task(self._watch(now))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout_s)
            return self._version()
        finally:
            self._waiters -= 1

    async def _watch(self, seen: int) -> None:
        while self._waiters:
            await asyncio.sleep(self.POLL_S)
            now = self._version()
            if now != seen:
                seen = now
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
