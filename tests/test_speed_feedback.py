"""Speed against the machine on a loop solution graded end to end: its machine figures reach
the result and the board, and its hottest line is named right (the units: declared operation
counts, the profiler's reply checks, in tests/unit/harness/test_speed_feedback.py)."""

from __future__ import annotations

import json

import pytest

from grader.publish.boards import build_boards
from grader.publish.gradescope import to_gradescope
from grader.harness.assignments import cs231n_conv as conv2d


@pytest.fixture(scope="module")
def naive_result(examples_dir, quick_config):
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    return grade_submission(examples_dir / "naive_loops.py", get_sandbox("process"), quick_config, seed=1)


def test_a_loop_solution_is_told_its_hottest_line(naive_result, examples_dir):
    source = (examples_dir / "naive_loops.py").read_text().splitlines()
    expected = {"forward": "out[n, f, i, j] = np.sum(", "backward": ("dw[f] +=", "dx_pad[n, :")}
    profiles = {p.function: p for p in naive_result.line_profiles}
    assert set(profiles) == {"forward", "backward"}
    for function, profile in profiles.items():
        hottest = profile.lines[0]
        assert source[hottest.line - 1].strip() == hottest.text
        assert hottest.text.startswith(expected[function]), (function, hottest)
        assert hottest.loops == 4 and hottest.hits > 0 and hottest.percent > 30


def test_machine_figures_are_in_the_result_and_on_the_board_but_the_profile_is_not(naive_result):
    for timing in naive_result.timing:
        assert timing.measured and timing.flops == conv2d.timed_flops(timing.call, "small")
        assert timing.student_gflops == pytest.approx(timing.reference_gflops * timing.speedup_vs_reference)
        assert 0 < timing.percent_of_peak < timing.reference_percent_of_peak
    feedback = to_gradescope(naive_result)["output"]
    assert "GFLOP/s" in feedback and "% of this core's peak" in feedback
    assert "never scored or ranked" in feedback and "inside 4 loops" in feedback
    board = build_boards([naive_result]).model_dump(mode="json")
    assert board["entries"][0]["speeds"]["forward"]["percent_of_peak"] == naive_result.timing[0].percent_of_peak
    assert "np.sum" not in json.dumps(board)  # no line of the student's code on a public board
