"""The affine pack graded end to end (process sandbox) through the same sandbox, timing,
scoring and leaderboard code as every pack, against golden JSON (its references are
checked in tests/unit/reference/test_affine_relu_references.py).

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_affine_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_affine as pack
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "affine"
GOLDEN_DIR = Path(__file__).parent / "golden" / "affine"
SEED = 20261207

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("vectorised", 100, None, id="vectorised"),
    pytest.param("bug_db_keepdims", None, r"db has shape \(1, (\d+)\), expected \(\1,\) .*"
                 r"np\.sum\(dout, axis=0, keepdims=True\) keeps the summed axis", id="bug_db_keepdims"),
    pytest.param("bug_flattened_cache", None, r"dx has shape \(10, 6\), expected \(10, 2, 3\) .*"
                 r"dx has the right values but flattened to \(10, 6\).*cache = \(x, w, b\) keeps the flattened x",
                 id="bug_flattened_cache"),
    pytest.param("bug_x_not_flattened", None, r"affine_forward raised ValueError: .*"
                 r"for x \(2, 4, 5, 6\), which flattens to \(2, 120\), w \(120, 3\)", id="bug_x_not_flattened"),
]


@pytest.fixture(scope="module")
def affine_config():
    return GradingConfig(assignment="cs231n-affine", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(affine_config):
    """Each example graded once (a module's tests share them: the leaderboard test too)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, affine_config,
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
def test_affine_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-affine"
    matches_golden(machine_free(result), score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_a_forward_for_2d_x_only_passes_exactly_the_2d_cases(graded):
    """x never flattened: the hidden cases whose x is already 2-D pass, every other forward
    fails; so the checks show the bug is the flattening, not the product."""
    two_d = {f"hidden-{i + 1}" for i, (_, example, _) in enumerate(pack.HIDDEN_SHAPES) if len(example) == 1}
    forward = {c.id.split("/")[1]: c.status.value for c in graded["bug_x_not_flattened"].checks
               if c.id.startswith("forward/hidden")}
    assert two_d and forward == {case: "passed" if case in two_d else "failed" for case in forward}


def test_affine_results_make_a_leaderboard(graded):
    """The generic leaderboard ranks affine results by the same rules: the two right
    answers rank, a wrong backward is not ranked."""
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-affine" and len(board.entries) == len(EXAMPLES)
    status = {e.student_id: e.status for e in board.entries}
    assert status["naive_loops"] == status["vectorised"] == "ranked"
    assert status["bug_db_keepdims"] == status["bug_flattened_cache"] == "failed_correctness"
