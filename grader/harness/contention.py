"""Is the rest of the machine busy while we time?

A process on another core that streams through memory slows a memory-bound solution
far more than the reference: measured here with a 64 MiB copy loop on the other core,
fast_strided's forward figure fell from 0.80x to 0.55x, in-process or in the grader,
with or without flushing the caches before each call. No ordering or interval removes
that: the figure is honest only on a quiet machine. So the harness watches how busy
the other cores are (the kernel's per-CPU counters in /proc/stat, which are the host's
even inside a container), waits a bounded time for them to go quiet before a worker
pair, and marks every pair timed while they were busy.

Busy is CPU time, not memory traffic: a neighbour that only computes is counted too.
That errs on the side of waiting, never of a silently shifted figure.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

STAT = "/proc/stat"
# Other cores busier than this over a pair make it contended. An idle machine shows a
# few per cent (the kernel, the grader's own parent waiting); a copy loop shows 100%.
BUSY_LIMIT = 0.25
WINDOW_S = 0.1  # how long one look at the other cores lasts while waiting
# /proc/stat counts in ticks of 1/USER_HZ (10 ms); a few ticks' wait always sees one pass.
TICK_WAIT_S = 0.05
# A grading alone on its host (convgrade grade, grade-all --jobs 1 or with
# --exclusive-timing) may lose this much time to a busy machine; a batch whose parallel
# gradings are each other's neighbours waits for nothing (grader.batch.grade_all.quiet_wait_for).
QUIET_WAIT_S = 10.0


@dataclass(frozen=True)
class Sample:
    busy: int  # jiffies the other cores spent running anything
    total: int  # jiffies of the other cores in all

    def busy_since(self, earlier: "Sample") -> float | None:
        """The other cores' busy fraction between ``earlier`` and this sample; None when
        no tick passed (too short to tell)."""
        total = self.total - earlier.total
        return None if total <= 0 else (self.busy - earlier.busy) / total


def parse_stat(text: str, own: set[int]) -> Sample | None:
    """Busy and total jiffies of the CPUs in /proc/stat's ``cpuN`` lines that are not ours.
    Idle and iowait are idle; everything else (user, nice, system, irq, softirq, steal)
    is busy. None when there is no other CPU."""
    busy = total = 0
    seen = False
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        try:
            index = int(name[3:])
            values = [int(v) for v in rest.split()]
        except ValueError:
            continue
        if index in own or len(values) < 4:
            continue
        seen = True
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        # guest and guest_nice (fields 9 and 10) are already counted in user and nice.
        all_ = sum(values[:8])
        total += all_
        busy += all_ - idle
    return Sample(busy, total) if seen else None


class OtherCores:
    """The other cores' activity, read from /proc/stat; ``unknown`` where it cannot be read
    (then nothing waits and no pair is marked)."""

    def __init__(self, own: set[int] | None = None, path: str = STAT):
        self.own = set(own if own is not None else os.sched_getaffinity(0))
        self.path = path

    @property
    def unknown(self) -> bool:
        return self.sample() is None

    def sample(self) -> Sample | None:
        try:
            with open(self.path) as stat:
                return parse_stat(stat.read(), self.own)
        except OSError:
            return None

    def busy_since(self, earlier: Sample | None) -> float | None:
        now = self.sample()
        return None if now is None or earlier is None else now.busy_since(earlier)

    def busy_over_a_tick(self, earlier: Sample | None) -> float | None:
        """``busy_since``, but a look that ended before the kernel's next tick is stretched
        until one passes (at most ``TICK_WAIT_S``): a quick solution's whole pair can fit
        between two 10 ms ticks, and a pair that cannot be told must not pass as quiet
        beside a neighbour that stays. Costs wall time only, never timed CPU."""
        ends = time.monotonic() + TICK_WAIT_S
        while True:
            busy = self.busy_since(earlier)
            if busy is not None or earlier is None or time.monotonic() >= ends:
                return busy
            time.sleep(0.002)

    def wait_for_quiet(self, budget_s: float) -> float:
        """Look at the other cores in windows of ``WINDOW_S`` until one shows them quiet or
        ``budget_s`` is spent; returns the time spent. A first quiet window costs its
        length, so callers look only after they saw the machine busy."""
        started = time.monotonic()
        while time.monotonic() - started < budget_s:
            before = self.sample()
            if before is None:  # unknown: nothing to wait for
                break
            time.sleep(min(WINDOW_S, max(0.0, budget_s - (time.monotonic() - started))))
            busy = self.busy_since(before)
            if busy is not None and busy <= BUSY_LIMIT:
                break
        return time.monotonic() - started


def contended(busy: float | None) -> bool:
    return busy is not None and busy > BUSY_LIMIT


class QuietWait:
    """One grading's budget for time lost to a busy machine. Before a worker pair, if the
    other cores were busy over the last look, wait for a quiet window; a pair timed
    while they were busy is thrown away and timed again, its wall time charged to the
    same budget (a slow loop's pair is not redone for nothing). When the budget is spent
    (a neighbour that stays), pairs are kept as timed and the result says how busy the
    machine was: a figure is never silently shifted, only marked."""

    def __init__(self, cores: OtherCores, budget_s: float):
        self.cores = cores
        self.budget_s = max(0.0, budget_s)
        self.spent_s = 0.0
        self.redone = 0

    def left_s(self) -> float:
        return max(0.0, self.budget_s - self.spent_s)

    def before_pair(self, busy: float | None, time_left_s: float) -> None:
        if contended(busy) and self.left_s() > 0:
            # Never more than a quarter of the grading's remaining time: the trials come first.
            self.spent_s += self.cores.wait_for_quiet(min(self.left_s(), max(0.0, time_left_s / 4)))

    def redo(self, busy: float | None, pair_wall_s: float) -> bool:
        """Whether a pair that took ``pair_wall_s`` is thrown away to be timed again."""
        if contended(busy) and self.left_s() >= pair_wall_s:
            self.spent_s += pair_wall_s
            self.redone += 1
            return True
        return False

    def report(self, pairs: list) -> dict:
        """The result's fields: the kept pairs' other-core activity and the time lost."""
        busy = [p.other_cores_busy for p in pairs if p.other_cores_busy is not None]
        return {"other_cores_busy": round(max(busy), 3) if busy else None,
                "contended_pairs": sum(contended(b) for b in busy),
                "contention_wait_s": round(self.spent_s, 3), "redone_pairs": self.redone}

    def describe(self, pairs: list) -> str:
        """What the plan line adds, or ''."""
        fields = self.report(pairs)
        parts = []
        if fields["redone_pairs"] or fields["contention_wait_s"] >= WINDOW_S:
            redone = fields["redone_pairs"]
            parts.append(f"other cores were busy: {fields['contention_wait_s']:.1f} s spent waiting for quiet"
                         + (f" and redoing {redone} pair{'s' * (redone != 1)} timed meanwhile" if redone else ""))
        if fields["contended_pairs"]:
            parts.append(f"{fields['contended_pairs']} of {len(pairs)} kept pairs ran while other cores were up to "
                         f"{fields['other_cores_busy']:.0%} busy (another grading or program): a memory-bound figure can "
                         "then differ from a quiet machine's, by up to 30% beside a memory-heavy program; regrade "
                         "on a quiet machine for a ranking that counts")
        return "; ".join(parts)
