"""The dropout pack graded end to end (process sandbox): checks by property through the
worker protocol, scoring and the leaderboard, against golden JSON.

Every example says what the grader must answer: its exact score, and a message that must
appear among its failed checks (the property, the case, and the bug named). After an
intended change, run ``pytest tests/test_dropout_pack.py --update-golden`` and review the
diff. The same examples' properties are checked in-process, fast, by
tests/unit/harness/test_dropout_properties.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "dropout"
GOLDEN_DIR = Path(__file__).parent / "golden" / "dropout"
SEED = 20261207

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("course_rand", 100, None, id="course_rand"),
    pytest.param("binomial_mask", 100, None, id="binomial_mask"),
    pytest.param("bug_p_as_drop", 32.794872, r"kept fraction: 0\.7\d+ of the units kept in train mode at p = 0\.25 "
                 r"\(x \(500, 500\)\), expected 0\.25 \+/- 0\.0052 \(6 binomial standard deviations over 250000 units\): "
                 r"this is p read as the probability of DROPPING a unit \(the course's meaning in 2016-2017\); in this "
                 r"course p is the probability of KEEPING it", id="bug_p_as_drop"),
    pytest.param("bug_not_inverted", 42.205128, r"zero or scaled: the kept units of out equal x in train mode at p = 0\.25 "
                 r"\(x \(500, 500\)\): dropout without inverted scaling", id="bug_not_inverted"),
    pytest.param("bug_scale_one_minus_p", 48.897436, r"zero or scaled: the kept units of out are x / \(1 - p\), expected "
                 r"x / p in train mode at p = 0\.25", id="bug_scale_one_minus_p"),
    pytest.param("bug_backward_no_mask", 65, r"backward mask: dx is dout in train mode at p = 0\.3 \(x \(64, 100\)\), "
                 r"expected dout \* mask / p \(mask: the units the forward kept\): the backward ignores the mask",
                 id="bug_backward_no_mask"),
    pytest.param("bug_seed_ignored", 83.897436, r"same seed: two train calls with dropout_param\['seed'\] = 123 gave "
                 r"different outputs in train mode at p = 0\.25 \(x \(500, 500\)\): \d+ of 250000 elements differ.*The "
                 r"seed is ignored", id="bug_seed_ignored"),
    pytest.param("bug_randn_mask", 86.589744, r"kept fraction: 0\.6\d+ of the units kept in train mode at p = 0\.3 "
                 r"\(x \(64, 100\)\).*a mask drawn with np\.random\.randn keeps this share", id="bug_randn_mask"),
    pytest.param("bug_two_dims_only", 83.846154, r"same seed: not checked, dropout_forward raised ValueError: operands "
                 r"could not be broadcast together .* in train mode at p = 0\.8 \(x \(8, 8, 16, 16\)\)",
                 id="bug_two_dims_only"),
    pytest.param("bug_in_place", 90, r"^dropout_forward changed its input x in train mode at p = 0\.25 \(x \(500, 500\)\)",
                 id="bug_in_place"),
]


@pytest.fixture(scope="module")
def dropout_config():
    # Timing stays on (the default) though it earns nothing here: it exercises the timing
    # phase of a pack whose outputs have no one right value (trials skip the comparison).
    return GradingConfig(assignment="cs231n-dropout", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(dropout_config):
    """Each example graded once (a module's tests share them: the leaderboard test too)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, dropout_config,
                                              seed=SEED) for param in EXAMPLES}


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_dropout_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-dropout"
    assert result.score == pytest.approx(score, abs=1e-6)
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_every_dropout_check_is_a_property_named_in_its_id(graded):
    """Five properties, in plan order; a correct solution passes all of them, and speed
    earns nothing by default (the rubric's speed is off)."""
    result = graded["course_rand"]
    labels = {check.id.rsplit("/", 1)[1] for check in result.checks if check.id != "inputs-unchanged"}
    assert labels == {"same-seed", "zero-or-scaled", "kept-fraction", "mask", "test-returns-x"}
    assert all(check.status.value == "passed" for check in result.checks)
    assert result.checks[0].id == "forward/notebook-train-1/same-seed"


def test_a_timed_backward_behind_a_failed_forward_gets_the_stand_in_cache(graded):
    """bug_seed_ignored's forward fails its same-seed checks and is not timed; its backward
    passed every check and is timed on the template-shaped stand-in cache."""
    rows = {row.call: row for row in graded["bug_seed_ignored"].timing}
    assert rows["forward"].reason == "not timed: the function failed a correctness check"
    assert rows["backward"].measured, rows["backward"].reason


def test_dropout_results_make_a_leaderboard(graded):
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-dropout" and len(board.entries) == len(EXAMPLES)
    status = {e.student_id: e.status for e in board.entries}
    assert status["course_rand"] == status["binomial_mask"] == "ranked"
    assert status["bug_backward_no_mask"] == "failed_correctness"


def test_a_course_on_the_2016_text_sets_p_to_the_drop_probability(dropout_config, graded):
    """pack_settings {"p_meaning": "drop"}: the solution written to the old docstring passes
    every property, and the one written to today's is told it read p the other way."""
    old_course = dropout_config.model_copy(update={"pack_settings": {"p_meaning": "drop"}})
    sandbox = get_sandbox("process")
    old_style = grade_submission(EXAMPLES_DIR / "bug_p_as_drop.py", sandbox, old_course, seed=SEED)
    assert old_style.score == old_style.max_score
    assert graded["bug_p_as_drop"].score < graded["bug_p_as_drop"].max_score  # the default meaning: keep
    new_style = grade_submission(EXAMPLES_DIR / "course_rand.py", sandbox, old_course, seed=SEED)
    failed = [c.message for c in new_style.checks if c.status.value == "failed"]
    assert any(message.startswith("kept fraction: ") and "this is p read as the probability of KEEPING a unit "
               "(the course's meaning since 2018); in this course p is the probability" in message
               for message in failed), failed
