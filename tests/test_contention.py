"""A busy machine for real, a process spinning on another core: the harness sees it come and
go, marks a neighbour that stays, and waits out one that passes (the units, from /proc/stat
to the batch's wait: tests/unit/harness/test_contention.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader.grading.grade import grade_submission
from grader.harness.contention import BUSY_LIMIT, OtherCores
from grader.sandbox import get_sandbox
from grader.sandbox.placement import Placement


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
