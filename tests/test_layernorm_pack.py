"""The layer-norm pack graded end to end (process sandbox) through the same sandbox,
scoring and leaderboard code as every pack, against golden JSON; and its messages for
the bugs it names, on the pack alone.

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_layernorm_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_layernorm as pack
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox
from reference import layernorm

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "layernorm"
GOLDEN_DIR = Path(__file__).parent / "golden" / "layernorm"
SEED = 20261207

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("vectorised", 100, None, id="vectorised"),
    pytest.param("bug_batch_axis", None, r"out is wrong at x \(\d+, \d+\).*normalised over the batch \(axis 0\), "
                 r"as batchnorm does", id="bug_batch_axis"),
    pytest.param("bug_eps_outside", None, r"out is wrong .*\. eps was added to the standard "
                 r"deviation; the course divides by np\.sqrt\(var \+ eps\)", id="bug_eps_outside"),
    pytest.param("bug_dgamma_keepdims", None, r"dgamma has shape \(1, (\d+)\), expected \(\1,\) .*The values are "
                 r"right: return dgamma in gamma's shape", id="bug_dgamma_keepdims"),
    pytest.param("bug_inplace_centring", 90, r"layernorm_forward changed its input x at x \(4, 3\).*never write "
                 r"into x, gamma, beta, dout or ln_param", id="bug_inplace_centring"),
]


@pytest.fixture(scope="module")
def layernorm_config():
    return GradingConfig(assignment="cs231n-layernorm", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(layernorm_config):
    """Each example graded once (the module's tests share them)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, layernorm_config,
                                              seed=SEED) for param in EXAMPLES}


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_layernorm_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-layernorm"
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_layernorm_results_make_a_leaderboard(graded):
    board = build_leaderboard(list(graded.values()))
    status = {e.student_id: e.status for e in board.entries}
    assert status["naive_loops"] == status["vectorised"] == "ranked"
    assert all(status[name] == "failed_correctness" for name in status
               if name.startswith("bug_") and name != "bug_inplace_centring")


def test_the_notebook_cases_are_graded_as_the_notebook_runs_them(graded):
    """The notebook's forward check passes {'mode': 'train'} as ln_param and its right answer
    shows the printed stds; the backward check's three gradients are checked."""
    checks = {c.id: c for c in graded["vectorised"].checks}
    assert "stds differ from the notebook's printed ones by at most" in checks["forward/notebook-forward"].message
    assert {f"backward/notebook-backward/{label}" for label in ("dx", "dgamma", "dbeta")} <= set(checks)


def test_dgamma_summed_over_the_features_is_named():
    """dgamma = np.sum(dout * x_hat, axis=1): shape (N,), named when N != D, and when N == D
    (where the shape alone cannot tell)."""
    for case in pack.hidden_cases(3, len(pack.HIDDEN_SHAPES)):
        _, cache = layernorm.layernorm_forward(case.x, case.gamma, case.beta, case.ln_param)
        wrong = (case.dout * cache[0]).sum(axis=1)
        if case.x.shape[0] > 1:
            assert "summed over the features (axis 1)" in pack.wrong_answer_note(case, "dgamma", wrong), case.where
        right = layernorm.layernorm_backward(case.dout, cache)[1]
        assert pack.wrong_answer_note(case, "dgamma", right + 1.0) == ""


def test_a_forward_without_a_cache_gets_the_templates_none():
    case = pack.notebook_cases()[1]
    args, inputs = case.arguments("backward", {})
    assert args == [{"array": "dout"}, {"value": None}] and set(inputs) == {"dout"}
    assert case.arguments("backward", {"cache": "cache-7"})[0][1] == {"kept": "cache-7"}
    assert np.array_equal(case.arguments("forward", {})[1]["gamma"], case.gamma)
