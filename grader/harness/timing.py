"""The one place time is read and timing figures are computed.

Every duration in a result goes through ``clock_ns`` in the harness process: the
student's process never reports a time, so patching ``time`` there changes nothing.

The figure the class competes on is the median over trials of the per-trial ratio
reference time / student time, with the two timed alternately on the same inputs
(A B B A ...): alternation cancels slow drifts of machine load (TIMING_FACTS: a
ratio's spread drops from 21% to 1.5% under bursty load), and the median of ratios
ignores the odd disturbed trial.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import statistics
import time
from dataclasses import dataclass

clock_ns = time.perf_counter_ns


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free confidence interval for the median, from order statistics.

    Returns (low, high, coverage). With few values no interval reaches ``level``
    (three values cover the median with 75% at best); the widest one is returned
    with its true coverage instead of pretending.
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("no values")
    # P(Binomial(n, 1/2) <= j), accumulated; the interval [x_(k), x_(n+1-k)] misses
    # the median with probability 2 * P(B <= k - 1).
    cumulative, below = [], 0.0
    for j in range(n + 1):
        below += math.comb(n, j) / 2**n
        cumulative.append(below)
    best_k, coverage = 1, 1 - 2 * cumulative[0]
    for k in range(1, (n + 1) // 2 + 1):
        this_coverage = 1 - 2 * cumulative[k - 1]
        if this_coverage >= level:
            best_k, coverage = k, this_coverage
    return ordered[best_k - 1], ordered[n - best_k], coverage


@dataclass(frozen=True)
class RatioSummary:
    trials: int
    student_median_s: float
    reference_median_s: float
    speedup: float  # median of reference / student per trial
    ci_low: float
    ci_high: float
    ci_level: float


def summarize_pairs(student_s: list[float], reference_s: list[float]) -> RatioSummary:
    if len(student_s) != len(reference_s) or not student_s:
        raise ValueError("need the same, non-zero number of student and reference times")
    ratios = [r / s for s, r in zip(student_s, reference_s)]
    low, high, level = median_ci(ratios)
    return RatioSummary(
        trials=len(ratios),
        student_median_s=statistics.median(student_s),
        reference_median_s=statistics.median(reference_s),
        speedup=statistics.median(ratios),
        ci_low=low,
        ci_high=high,
        ci_level=round(level, 4),
    )


@dataclass(frozen=True)
class TrialBudget:
    """How many timed trials to run: at least ``min_trials``, then more while the
    time spent stays under ``budget_s``, never more than ``max_trials``.

    A 2-second naive loop stops at the minimum; a 2 ms solution gets the maximum.
    """

    budget_s: float
    min_trials: int
    max_trials: int

    def wants_more(self, trials_done: int, spent_s: float) -> bool:
        if trials_done < self.min_trials:
            return True
        if trials_done >= self.max_trials:
            return False
        per_trial = spent_s / trials_done
        return spent_s + per_trial <= self.budget_s


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
