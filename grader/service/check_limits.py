"""What one student's upload checks may cost the others: one check at a time per student,
and a limit of refused uploads of their own.

The upload check runs before anything is stored, so its refusals are not submissions and
do not count against the submission rate limit. Without a limit of their own, one student
could keep every checking process busy with hostile files (each refused after the check's
time bound) or with uploads that hang up mid-check. So each student's checks run one at a
time (their next upload waits for the one in flight, holding no checking process), and a
student whose uploads were refused ``limit`` times in ``window`` seconds (the loader's
refusals, checks that ran out of time, and uploads whose client hung up during the check)
is answered 429 before their next body is read. Staff are not limited. The state is the
server's memory: refusals are not jobs, and a restart forgives them.
"""

from __future__ import annotations

import asyncio
import collections
import time


class StudentCheckLimits:
    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._refused: dict[str, collections.deque] = {}  # student -> times of their refusals, oldest first
        self._locks: dict[str, asyncio.Lock] = {}  # at most one per roster student

    def _recent(self, student_id: str) -> collections.deque:
        times = self._refused.setdefault(student_id, collections.deque())
        while times and times[0] <= time.time() - self.window:
            times.popleft()
        return times

    def retry_after(self, student_id: str) -> int | None:
        """Seconds until the student may upload again; None while under the limit."""
        times = self._recent(student_id)
        if len(times) < self.limit:
            return None
        return max(1, int(times[len(times) - self.limit] + self.window - time.time()) + 1)

    def refused(self, student_id: str) -> None:
        times = self._recent(student_id)
        times.append(time.time())
        while len(times) > self.limit:  # only the last `limit` are ever needed
            times.popleft()

    def one_at_a_time(self, student_id: str) -> asyncio.Lock:
        return self._locks.setdefault(student_id, asyncio.Lock())

    def message(self, retry_after: int) -> str:
        return (f"too many refused uploads: at most {self.limit} per {self.window:g} s; fix the file the "
                f"last refusal named, then try again in {retry_after} s")
