"""Speed against the machine (GFLOP/s, percent of peak) and "where your time goes", as
units: the declared operation counts, the machine figures, the worker-side profiler and the
harness's checks of its reply (a loop solution graded end to end: tests/test_speed_feedback.py)."""

from __future__ import annotations

import pytest

from grader.harness import line_feedback, speed_feedback
from grader.harness.assignments import cs231n_conv as conv2d


def test_declared_flops_are_the_same_shape_gemms():
    # bench/bench_reference.py's count for the speed cell: M = 100*16*16, K = 3*3*3, F = 25.
    m, k, f = conv2d.same_shape_gemm("speed-cell")
    assert (m, k, f) == (100 * 16 * 16, 27, 25)
    assert conv2d.timed_flops("forward", "speed-cell") == 2 * m * k * f
    assert conv2d.timed_flops("backward", "speed-cell") == 4 * m * k * f


def test_machine_figures_scale_the_hosts_steady_figures_by_the_speedup():
    flops = conv2d.timed_flops("forward", "small")
    machine = {fn: {"reference_s": 0.001, "gemm_s": 0.0005, "reference_percent_of_peak": 48.0}
               for fn in ("forward", "backward")}
    figures = speed_feedback.machine_figures(conv2d, "forward", "small", speedup=0.25, machine=machine)
    assert figures["reference_gflops"] == pytest.approx(flops / 0.001 / 1e9)
    assert figures["peak_gflops"] == pytest.approx(flops / 0.0005 / 1e9)
    assert figures["student_gflops"] == pytest.approx(flops / 0.004 / 1e9)  # four times slower than the reference
    assert figures["reference_percent_of_peak"] == 48.0
    assert figures["percent_of_peak"] == pytest.approx(12.0)


# Two loops around the hot line (5), a while loop (6-7) whose body counts two.
LOOPS = """\
def slow(n):
    total = 0.0
    for i in range(n):
        for j in range(n):
            total += (i * j) ** 0.5
        while False:
            pass
    return total
"""


def test_loop_depths_count_enclosing_loops(tmp_path):
    (tmp_path / "loops.py").write_text(LOOPS)
    depths = line_feedback.loop_depths(str(tmp_path / "loops.py"))
    assert [depths.get(line, 0) for line in range(1, 9)] == [0, 0, 0, 1, 2, 1, 2, 0]


def test_profile_stops_a_slow_loop_at_its_budget_and_names_its_hot_line(tmp_path):
    # A stand-in for a 2-second loop solution: the profiled call must stop at the budget.
    (tmp_path / "slow.py").write_text(LOOPS)
    namespace: dict = {}
    exec(compile(LOOPS, str(tmp_path / "slow.py"), "exec"), namespace)
    figures = line_feedback.profile(namespace["slow"], [10**6], str(tmp_path), budget_s=0.2)
    assert figures["stopped"] is True
    hottest = figures["lines"][0]
    assert (hottest["file"], hottest["line"], hottest["loops"]) == ("slow.py", 5, 2)
    assert hottest["text"] == "total += (i * j) ** 0.5"


@pytest.mark.parametrize("raw", [
    None, {"lines": "x"}, {"lines": [{"line": "3", "hits": 1, "loops": 0, "seconds": 1.0}]},
    {"lines": [{"line": 3, "hits": 1, "loops": 0, "seconds": float("nan")}]},
    {"lines": [{"line": 3, "hits": -1, "loops": 0, "seconds": 1.0}]},
])
def test_a_forged_or_malformed_profile_is_dropped(raw):
    assert speed_feedback.clean_profile(raw, "forward", 2.0) is None


def test_a_profile_is_capped_and_its_text_cleaned():
    line = {"file": "a.py", "line": 3, "function": "f", "text": "\x1b[2J" + "x" * 5000, "hits": 1, "loops": 0,
            "seconds": 0.5}
    cleaned = speed_feedback.clean_profile({"lines": [line] * 50, "total_s": 1.0}, "forward", 2.0)
    assert len(cleaned["lines"]) == speed_feedback.MAX_PROFILE_LINES
    assert "\x1b" not in cleaned["lines"][0]["text"] and len(cleaned["lines"][0]["text"]) < 500
    assert cleaned["lines"][0]["percent"] == 50.0


