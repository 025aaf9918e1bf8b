"""The grading's own time budget, shared by the checks and the timing phase."""

from __future__ import annotations

import time

from .job import LimitsJob


class Deadline:
    """Our own budget, a little inside the host's deadline, so that a slow submission fails
    its remaining checks ("total time limit") instead of the host killing us and the
    grading becoming not gradable."""

    def __init__(self, limits: LimitsJob):
        self.limits = limits
        deadline = limits.deadline_s
        self.ends_at = time.monotonic() + deadline - max(2.0, 0.05 * deadline)

    def time_left(self) -> float:
        return self.ends_at - time.monotonic()

    def call_timeout(self, reference_s: float) -> float:
        """A student call's limit: the allowance plus a factor of the reference's time."""
        own = self.limits.call_allowance_s + self.limits.call_time_factor * reference_s
        return max(0.0, min(own, self.time_left()))

    def total_time_reached(self) -> str:
        return f"this grading's total time limit ({self.limits.deadline_s:g} s) was reached"
