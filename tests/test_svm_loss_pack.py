"""The SVM loss pack graded end to end (process sandbox) against golden JSON: a loss is one
call, "loss", with a scalar result (it travels as a 0-d array) beside dx.

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_svm_loss_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig
from grader.grading.grade import grade_submission
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "svm_loss"
GOLDEN_DIR = Path(__file__).parent / "golden" / "svm_loss"
SEED = 20261207

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("vectorized", 100, None, id="vectorized"),
    pytest.param("bug_correct_class_margin", None, r"loss is wrong for x of shape \(\d+, \d+\): .*The loss is "
                 r"exactly 1 too large: the correct class was counted as a margin of its own",
                 id="bug_correct_class_margin"),
    pytest.param("bug_loss_not_averaged", None, r"loss is wrong .*The loss is exactly N = \d+ times the right one",
                 id="bug_loss_not_averaged"),
    pytest.param("bug_dx_not_divided", None, r"dx is wrong .*dx is exactly N = \d+ times the right one",
                 id="bug_dx_not_divided"),
]


@pytest.fixture(scope="module")
def graded(quick_config):
    """Each example graded once, with the pack's rubric and hidden cases and the quick timing."""
    config = GradingConfig(assignment="cs231n-svm-loss", timing=quick_config.timing)
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, config, seed=SEED)
            for param in EXAMPLES}


def without_flops(result):
    """The result with no timing row's ``flops``: it is filled only beside the machine figures,
    which a session's first grading of the pack measures only on a quiet machine (a busy one
    leaves them, and flops, out: seen here under other test runs). The figure itself is the
    pack's declaration, checked by tests/unit/harness/test_packs.py."""
    return result.model_copy(update={"timing": [t.model_copy(update={"flops": None}) for t in result.timing]})


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_svm_loss_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-svm-loss"
    matches_golden(without_flops(result), score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_a_right_loss_scores_the_notebook_case(graded):
    """The notebook's case passes with its loss shown beside the notebook's "around 9", for
    a Python float (the loops) and a numpy float64 (vectorised) alike."""
    for example in ("naive_loops", "vectorized"):
        check = next(c for c in graded[example].checks if c.id == "loss/notebook/loss")
        assert check.status.value == "passed" and 'the notebook prints this loss, 8.99' in check.message


def test_the_correct_class_margin_fails_every_loss_and_no_dx(graded):
    """Counting the correct class adds 1 to every sample's loss and cancels in dx: every
    loss check fails, every dx check passes (the notebook's gradient check cannot see it)."""
    checks = [c for c in graded["bug_correct_class_margin"].checks if c.id.startswith("loss/")]
    assert {c.status.value for c in checks if c.id.endswith("/loss")} == {"failed"}
    assert {c.status.value for c in checks if c.id.endswith("/dx")} == {"passed"}


def test_svm_loss_results_make_a_leaderboard(graded):
    """The generic leaderboard ranks loss results by the loss call: the two right answers
    rank, every bug example fails its correctness."""
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-svm-loss" and board.calls == ["loss"]
    status = {e.student_id: e.status for e in board.entries}
    assert status["naive_loops"] == status["vectorized"] == "ranked"
    assert {status[name] for name in graded if name.startswith("bug_")} == {"failed_correctness"}
