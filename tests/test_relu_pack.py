"""The ReLU pack graded end to end (process sandbox) through the same sandbox, timing,
scoring and leaderboard code as every pack, against golden JSON (its references are
checked in tests/unit/reference/test_affine_relu_references.py).

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_relu_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_relu as pack
from grader.sandbox import get_sandbox

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "relu"
GOLDEN_DIR = Path(__file__).parent / "golden" / "relu"
SEED = 20261207
INPUTS_POINTS = pack.DEFAULT_RUBRIC["points"]["inputs_unchanged"]

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("vectorised", 100, None, id="vectorised"),
    pytest.param("bug_dout_in_place", 100 - INPUTS_POINTS, r"relu_backward changed its input dout for x \(10, 10\).*"
                 r"`dout\[x <= 0\] = 0` in relu_backward changes the upstream gradient dout in place",
                 id="bug_dout_in_place"),
    pytest.param("bug_x_in_place", 100 - INPUTS_POINTS, r"relu_forward changed its input x for x \(3, 4\).*"
                 r"`x\[x < 0\] = 0` in relu_forward changes x in place", id="bug_x_in_place"),
]


@pytest.fixture(scope="module")
def relu_config():
    return GradingConfig(assignment="cs231n-relu", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(relu_config):
    """Each example graded once (a module's tests share them)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, relu_config,
                                              seed=SEED) for param in EXAMPLES}


def machine_free(result):
    """The result with its timing rows' flops cleared. A row gets flops only when the grading
    had the machine figures (measured in a quiet worker pair, or cached by an earlier
    grading of this session), and on a machine shared with other work whether any pair was
    quiet is luck: the goldens hold null, and a figure, where there is one, must be the
    pack's count."""
    for row in result.timing:
        assert row.flops in (None, pack.timed_flops(row.call, "small")), row
    return result.model_copy(update={"timing": [row.model_copy(update={"flops": None}) for row in result.timing]})


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_relu_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-relu"
    matches_golden(machine_free(result), score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_both_conventions_at_zero_pass_where_they_differ(graded):
    """The loop solution passes 0 where x == 0 and the vectorised one passes dout: on the
    hidden cases with exact zeros (the unit tests check that every seed gives some, where
    the two answers differ) both pass."""
    zero_cases = [f"hidden-{i + 1}" for i, (_, zeros) in enumerate(pack.HIDDEN_SHAPES) if zeros]
    for example in ("naive_loops", "vectorised"):
        checks = {c.id: c.status.value for c in graded[example].checks}
        assert zero_cases and all(checks[f"backward/{case}/dx"] == "passed" for case in zero_cases)
