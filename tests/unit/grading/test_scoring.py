"""Scoring: the property rule for "inputs unchanged", exact totals, and speed in words
(broken code graded end to end: tests/test_scoring.py)."""

from __future__ import annotations

import pytest

from grader.grading.config import GradingConfig, Rubric, SpeedRubric
from grader.harness.assignments import cs231n_conv as conv2d
from grader.grading.result import FunctionTiming
from grader.grading.scoring import score_checks, speed_checks, total
from grader.grading.result_words import describe_speed, interval_label


def raw_plan(config: GradingConfig, passing) -> list[dict]:
    """The check plan with ``passing(check_id)`` deciding each check, as the harness reports it."""
    return [{**identity, "passed": passing(identity["id"]), "message": "harness message"}
            for identity in conv2d.check_plan(config.hidden_cases)]


def score_of(checks) -> float:
    return total(c.score for c in checks)


# -- issue 14, item 1: no free points for broken code ---------------------------------------

def test_inputs_unchanged_earns_nothing_when_no_call_returned_a_correct_output():
    """Garbage, crashes on every call, or nothing at all: the inputs stay unchanged too."""
    config = GradingConfig()
    checks = score_checks(raw_plan(config, lambda cid: cid == "inputs-unchanged"), config)

    inputs = next(c for c in checks if c.id == "inputs-unchanged")
    assert score_of(checks) == 0
    assert inputs.status.value == "failed" and inputs.score == 0 and inputs.max_score == 10
    assert inputs.message.startswith("harness message; but no call of conv_forward_naive or conv_backward_naive "
                                     "returned a correct output")


@pytest.mark.parametrize("correct", ["forward/notebook-forward", "backward/hidden-3/db"])
def test_inputs_unchanged_earns_its_points_with_one_correct_output(correct):
    config = GradingConfig()
    checks = score_checks(raw_plan(config, lambda cid: cid in ("inputs-unchanged", correct)), config)

    inputs = next(c for c in checks if c.id == "inputs-unchanged")
    assert inputs.status.value == "passed" and inputs.score == 10 and inputs.message == "harness message"


def test_a_changed_input_still_fails_with_the_harness_message():
    config = GradingConfig()
    checks = score_checks(raw_plan(config, lambda cid: cid != "inputs-unchanged"), config)

    inputs = next(c for c in checks if c.id == "inputs-unchanged")
    assert (inputs.status.value, inputs.score, inputs.message) == ("failed", 0, "harness message")
    assert score_of(checks) == 90


def test_every_property_group_is_a_rubric_group_of_the_pack():
    plan_groups = {c["group"] for c in conv2d.check_plan(1)}
    assert set(conv2d.PROPERTY_GROUPS) <= plan_groups
    for functions in conv2d.PROPERTY_GROUPS.values():
        assert set(functions) <= set(conv2d.STUDENT_FUNCTIONS)


# -- issue 14, item 4: exact totals ------------------------------------------------------------

@pytest.mark.parametrize("hidden_cases", range(1, 65))
def test_totals_are_exact_for_every_hidden_case_count(hidden_cases):
    config = GradingConfig(hidden_cases=hidden_cases)
    every = score_checks(raw_plan(config, lambda cid: True), config)
    # all of backward_hidden but one check, everything else
    dropped = f"backward/hidden-{hidden_cases}/db"
    all_but_one = score_checks(raw_plan(config, lambda cid: cid != dropped), config)
    share = 40 / (3 * hidden_cases)

    assert total(c.max_score for c in every) == 100.0
    assert score_of(every) == 100.0
    assert score_of(all_but_one) == round(100 - share, 6)
    assert repr(total(c.max_score for c in every)) == "100.0"


def test_decimal_points_in_the_rubric_add_up_exactly():
    points = {"forward_notebook": 0.1, "forward_hidden": 0.2, "backward_notebook": 0.3, "backward_hidden": 0.7,
              "inputs_unchanged": 0.1}
    config = GradingConfig(hidden_cases=3, rubric=Rubric(points=points, speed=SpeedRubric(
        enabled=True, points=0.1, thresholds=[(0.5, 0.3)])))
    checks = score_checks(raw_plan(config, lambda cid: True), config)
    timing = [FunctionTiming(call=fn, function=f"conv_{fn}_naive", layer="cs231n-conv", measured=True, case="c", speedup_vs_reference=1.0, ci_low=0.9,
                             ci_high=1.1, ci_level=0.95) for fn in ("forward", "backward")]
    speed = speed_checks(timing, config)

    assert total(c.max_score for c in checks + speed) == 1.6
    assert total(c.score for c in checks + speed) == 1.46
    assert [c.score for c in speed] == [0.03, 0.03]


# -- issue 14, item 6: speed in words, the interval labelled by its real level -------------------

def timing(speedup: float, low: float, high: float, level: float | None) -> FunctionTiming:
    return FunctionTiming(call="forward", function="conv_forward_naive", layer="cs231n-conv", measured=True, case="c",
                          trials=9, speedup_vs_reference=speedup,
                          ci_low=low, ci_high=high, ci_level=level)


@pytest.mark.parametrize("figure, words", [
    pytest.param(timing(0.838, 0.76, 0.899, 0.9609), "0.84x the reference's speed (96.09% interval 0.76-0.90)",
                 id="a-bit-slower"),
    pytest.param(timing(1 / 470, 1 / 510, 1 / 440, 0.95), "470x slower than the reference "
                 "(95% interval 440-510x slower)", id="much-slower"),
    pytest.param(timing(2.5, 2.26, 2.61, 0.95), "2.5x the reference's speed (95% interval 2.3-2.6)", id="faster"),
    pytest.param(timing(0.05, 0.04, 0.06, 0.99804), "20x slower than the reference (99.8% interval 17-25x slower)",
                 id="real-level-to-four-digits"),
    pytest.param(timing(0.5, 0.4, 0.6, None), "0.50x the reference's speed (interval 0.40-0.60)", id="no-level"),
])
def test_speed_is_described_against_the_reference(figure, words):
    assert describe_speed(figure) == words


@pytest.mark.parametrize("level, label", [(0.9725, "97.25% interval"), (0.9609, "96.09% interval"), (0.95, "95% interval"),
                                          (0.5, "50% interval"), (None, "interval"), (1.0, "interval")])
def test_interval_label_follows_the_stored_level(level, label):
    assert interval_label(level) == label
