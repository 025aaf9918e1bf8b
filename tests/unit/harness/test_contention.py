"""A busy machine: the harness sees the other cores' activity, waits a bounded time for
them to go quiet, redoes pairs timed while they were busy, and marks what it kept; as units,
from a written /proc/stat (a real neighbour on another core: tests/test_contention.py)."""

from __future__ import annotations

import pytest

from grader.batch.grade_all import quiet_wait_for
from grader.harness import contention
from grader.harness.contention import BUSY_LIMIT, OtherCores, QuietWait, Sample, contended, parse_stat

STAT = """cpu  100 0 100 1000 10 0 0 0 0 0
cpu0 10 0 10 500 5 0 0 0 0 0
cpu1 90 5 80 200 20 3 2 7 40 0
cpu2 1 0 1 900 0 0 0 0 0 0
intr 12345
"""


def test_the_other_cores_are_read_from_proc_stat():
    # cpu1 busy: user 90 + nice 5 + system 80 + irq 3 + softirq 2 + steal 7 (guest is in user);
    # idle 200 + iowait 20. cpu2: 2 busy of 902.
    assert parse_stat(STAT, own={0}) == Sample(busy=187 + 2, total=407 + 902)
    assert parse_stat(STAT, own={0, 2}) == Sample(busy=187, total=407)
    assert parse_stat(STAT, own={0, 1, 2}) is None  # no other core: nothing to watch
    assert Sample(150, 1000).busy_since(Sample(100, 900)) == 0.5
    assert Sample(100, 900).busy_since(Sample(100, 900)) is None  # no tick passed


def test_an_unreadable_stat_means_unknown_and_nothing_waits(tmp_path):
    cores = OtherCores({0}, path=str(tmp_path / "missing"))
    assert cores.unknown and cores.sample() is None and cores.busy_since(None) is None
    assert cores.wait_for_quiet(5.0) < 0.05


class TickingStat(OtherCores):
    """/proc/stat whose other core, busy all the time, ticks once after ``quiet_looks`` reads."""

    def __init__(self, quiet_looks: int):
        super().__init__({0})
        self.reads = 0
        self.quiet_looks = quiet_looks

    def sample(self) -> Sample:
        self.reads += 1
        ticks = 0 if self.reads <= self.quiet_looks else 1
        return Sample(busy=100 + ticks, total=100 + ticks)


def test_a_pair_shorter_than_a_tick_is_looked_at_until_one_passes():
    # A quick solution's pair can end before the kernel's next 10 ms tick; read as "too
    # short to tell", a neighbour that stays would pass as quiet.
    cores = TickingStat(quiet_looks=3)
    start = cores.sample()
    assert cores.busy_over_a_tick(start) == 1.0 and cores.reads == 4
    never = TickingStat(quiet_looks=10**9)  # a clock that never ticks: bounded, then unknown
    assert never.busy_over_a_tick(never.sample()) is None
    assert OtherCores({0}).busy_over_a_tick(None) is None


class ScriptedCores:
    """Other cores that are busy for the first ``busy_looks`` looks."""

    def __init__(self, busy_looks: int):
        self.busy_looks = busy_looks
        self.looks = 0

    def wait_for_quiet(self, budget_s: float) -> float:
        spent = 0.0
        while spent < budget_s and self.looks < self.busy_looks:
            self.looks += 1
            spent += contention.WINDOW_S
        return min(spent, budget_s)


def test_a_grading_waits_only_after_a_busy_look_and_within_its_budget():
    quiet = QuietWait(ScriptedCores(busy_looks=1000), budget_s=1.0)
    quiet.before_pair(busy=0.1, time_left_s=100)
    assert quiet.spent_s == 0  # quiet last time: no look costs anything
    quiet.before_pair(busy=0.9, time_left_s=100)
    assert quiet.spent_s == pytest.approx(1.0)  # the neighbour stayed: the whole budget, no more
    quiet.before_pair(busy=0.9, time_left_s=100)
    assert quiet.spent_s == pytest.approx(1.0)
    short = QuietWait(ScriptedCores(busy_looks=1000), budget_s=10.0)
    short.before_pair(busy=0.9, time_left_s=2.0)
    assert short.spent_s == pytest.approx(0.5)  # never more than a quarter of the grading's time left


def test_a_pair_timed_beside_a_busy_neighbour_is_redone_while_the_budget_lasts():
    quiet = QuietWait(ScriptedCores(busy_looks=0), budget_s=1.0)
    assert not quiet.redo(busy=BUSY_LIMIT, pair_wall_s=0.3)  # at the limit: quiet enough
    assert quiet.redo(busy=0.9, pair_wall_s=0.3) and quiet.redo(busy=0.9, pair_wall_s=0.3)
    assert quiet.redone == 2 and quiet.spent_s == pytest.approx(0.6)
    assert not quiet.redo(busy=0.9, pair_wall_s=0.5)  # a redo would pass the budget: kept, and marked
    assert not quiet.redo(busy=None, pair_wall_s=0.1)  # unknown is never contended
    assert contended(0.26) and not contended(None) and not contended(0.0)


class Pair:
    def __init__(self, busy):
        self.other_cores_busy = busy


def test_what_a_busy_machine_adds_to_the_result_and_the_plan():
    quiet = QuietWait(ScriptedCores(busy_looks=0), budget_s=0.0)
    assert quiet.report([Pair(0.0), Pair(0.1)]) == {"other_cores_busy": 0.1, "contended_pairs": 0,
                                                    "contention_wait_s": 0.0, "redone_pairs": 0}
    assert quiet.describe([Pair(0.0), Pair(0.1)]) == ""  # a quiet grading's plan line says nothing more
    marked = quiet.describe([Pair(0.97), Pair(0.1)])
    assert marked.startswith("1 of 2 kept pairs ran while other cores were up to 97% busy")
    assert "regrade on a quiet machine for a ranking that counts" in marked
    waited = QuietWait(ScriptedCores(busy_looks=0), budget_s=5.0)
    waited.spent_s, waited.redone = 2.5, 1
    assert waited.describe([Pair(0.0)]) == ("other cores were busy: 2.5 s spent waiting for quiet and redoing "
                                            "1 pair timed meanwhile")
    assert quiet.report([Pair(None)])["other_cores_busy"] is None


def test_batches_wait_only_where_waiting_can_help():
    assert quiet_wait_for(None, jobs=1, exclusive_timing=False) == contention.QUIET_WAIT_S
    assert quiet_wait_for(None, jobs=2, exclusive_timing=True) == contention.QUIET_WAIT_S
    assert quiet_wait_for(None, jobs=2, exclusive_timing=False) == 0.0  # the neighbour is the batch itself
    assert quiet_wait_for("tcp://127.0.0.1:8786", jobs=1, exclusive_timing=False) == 0.0
