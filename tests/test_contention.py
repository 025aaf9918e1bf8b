"""A busy machine: the harness sees the other cores' activity, waits a bounded time for
them to go quiet, redoes pairs timed while they were busy, and marks what it kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader.batch.grade_all import quiet_wait_for
from grader.grading.grade import grade_submission
from grader.harness import contention
from grader.harness.contention import BUSY_LIMIT, OtherCores, QuietWait, Sample, contended, parse_stat
from grader.sandbox import get_sandbox
from grader.sandbox.placement import Placement

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


# -- for real: a process spinning on another core --------------------------------------

SPIN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass\n"


@pytest.fixture
def other_core():
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two usable cores: one to grade on, one for the neighbour")
    return cores[0], cores[-1]  # the neighbour's core, the grading's core


def spin(core: int, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-c", SPIN, str(seconds)])


def test_the_harness_sees_a_neighbour_come_and_go(other_core):
    neighbour_core, own = other_core
    cores = OtherCores({own})
    assert not cores.unknown
    neighbour = spin(neighbour_core, 1.0)
    try:
        time.sleep(0.1)
        before = cores.sample()
        time.sleep(0.3)
        with open("/proc/stat") as stat:
            others = sum(line[:3] == "cpu" and line[3].isdigit() for line in stat) - 1
        assert cores.busy_since(before) > 0.5 / others  # one of the other cores, all the time
        waited = cores.wait_for_quiet(5.0)
        assert 0.3 < waited < 3.0  # until the neighbour's second was over, not the whole budget
        assert neighbour.poll() is not None or neighbour.wait(timeout=1) == 0
    finally:
        neighbour.kill()
        neighbour.wait()


def grade_beside_a_neighbour(other_core, examples_dir, quick_config, neighbour_s: float, quiet_wait_s: float):
    """fast_strided graded on one core while another spins for ``neighbour_s``."""
    neighbour_core, own = other_core
    neighbour = spin(neighbour_core, neighbour_s)
    try:
        return grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), quick_config,
                                seed=1, placement=Placement(cpu=own, quiet_wait_s=quiet_wait_s))
    finally:
        neighbour.kill()
        neighbour.wait()


def test_a_neighbour_that_stays_is_marked_in_the_result(other_core, examples_dir, quick_config):
    result = grade_beside_a_neighbour(other_core, examples_dir, quick_config, neighbour_s=60, quiet_wait_s=0.5)
    assert result.score == result.max_score
    for timing in result.timing:
        assert timing.measured and timing.pairs == 2
        assert timing.contended_pairs == 2 and timing.other_cores_busy > BUSY_LIMIT
        assert timing.contention_wait_s == pytest.approx(0.5, abs=0.15)
        assert "2 of 2 kept pairs ran while other cores were up to" in timing.plan


def test_a_passing_neighbour_is_waited_out(other_core, examples_dir, quick_config):
    result = grade_beside_a_neighbour(other_core, examples_dir, quick_config, neighbour_s=2.0, quiet_wait_s=10.0)
    for timing in result.timing:
        assert timing.contended_pairs == 0, timing.plan
        assert 0.2 < timing.contention_wait_s < 5.0
        assert "spent waiting for quiet" in timing.plan
