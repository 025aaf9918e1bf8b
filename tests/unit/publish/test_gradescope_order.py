"""Gradescope's text and tests in /me's order: the failed checks first (each with its case,
hint and what-if), then the speed, then the passed checks tallied per group."""

from __future__ import annotations

import math

from grader.publish.gradescope import to_gradescope
from tests.unit.service.golden_results import golden_result


def test_failures_first_then_speed_then_passed_checks_per_group():
    document = to_gradescope(golden_result("bug_pad_slice"))
    assert document["output"].splitlines() == [
        "Score 95 / 100.",
        "What to fix: 3 failed checks",
        "1. conv_backward_naive dx, hidden 1 case (0 / 1.67 points): dx has shape (1, 3, 0, 0), expected "
        "(1, 3, 6, 5) at pad 0, stride 1 (x (1, 3, 6, 5), w (1, 3, 3, 3))",
        "2. conv_backward_naive dx, hidden 2 case (0 / 1.67 points): dx has shape (1, 1, 0, 0), expected "
        "(1, 1, 6, 9) at pad 0, stride 2 (x (1, 1, 6, 9), w (4, 1, 2, 3))",
        "3. conv_backward_naive dx, hidden 6 case (0 / 1.67 points): dx has shape (1, 1, 0, 0), expected "
        "(1, 1, 3, 4) at pad 0, stride 1 (x (1, 1, 3, 4), w (1, 1, 1, 1))",
        "Speed:",
        "forward: 0.50x the reference's speed (95% interval 0.40-0.60), 3 trials",
        "backward: not timed: the function failed a correctness check",
        "Passed checks (each is a test below):",
        "  forward_notebook: 1 of 1 passed (10 / 10 points)",
        "  backward_notebook: 3 of 3 passed (10 / 10 points)",
        "  forward_hidden: 8 of 8 passed (30 / 30 points)",
        "  backward_hidden: 21 of 24 passed (35 / 40 points)",
        "  inputs_unchanged: 1 of 1 passed (10 / 10 points)"]
    tests = document["tests"]
    # The failed tests first, numbered as the text numbers them; then the passed, in the result's order.
    assert [(t["number"], t["status"], t["name"]) for t in tests[:4]] == [
        ("1", "failed", "conv_backward_naive dx, hidden 1 case"), ("2", "failed", "conv_backward_naive dx, hidden 2 case"),
        ("3", "failed", "conv_backward_naive dx, hidden 6 case"),
        ("4", "passed", "conv_forward_naive out, notebook forward case")]
    assert [t["number"] for t in tests] == [str(n) for n in range(1, 38)]
    assert round(math.fsum(t["score"] for t in tests), 6) == document["score"] == 95  # nothing lost in the reorder


def test_a_hint_is_said_once_and_each_failure_has_its_what_if():
    output = to_gradescope(golden_result("mechanical/py2_division"))["output"]
    lines = output.splitlines()
    assert lines[1] == "What to fix: 37 failed checks"
    assert lines[2].startswith("1. conv_forward_naive out, notebook forward case (0 / 10 points): conv_forward_naive "
                               "raised TypeError: 'float' object cannot be interpreted as an integer at pad 1, stride 2")
    assert lines[3].startswith("   Hint: Python 2 division: use // for shape arithmetic")
    assert lines[4] == "   What if (with these fixes, not scored): this check passes"
    assert output.count("Hint: Python 2 division") == 1 and output.count("   Hint: the same as for test 1.") == 35
    assert output.count("this check passes") == 37
    assert output.index("What to fix") < output.index("What-if feedback") < output.index("Speed:") < output.index(
        "Passed checks")


def test_a_file_that_does_not_load_lists_the_load_test_and_counts_the_rest():
    lines = to_gradescope(golden_result("mechanical/cs231n_import"))["output"].splitlines()
    assert lines[2:5] == [
        "What to fix: 38 failed checks",
        "1. the submission loads: failed; its test below says why",
        "... and 37 checks not run (tests 2-38)"]


def test_a_clean_result_says_all_passed():
    output = to_gradescope(golden_result("naive_loops"))["output"]
    assert output.splitlines()[1] == "All 37 checks passed."
