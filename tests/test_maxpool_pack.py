"""The max-pooling pack graded end to end (process sandbox) through the same sandbox,
timing, scoring and leaderboard code as convolution, against golden JSON; and its
references checked against each other.

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_maxpool_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_maxpool as pack
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox
from reference import maxpool

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "maxpool"
GOLDEN_DIR = Path(__file__).parent / "golden" / "maxpool"
SEED = 20261128

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("split_ties", 100, None, id="split_ties"),
    pytest.param("bug_stride_as_pool", None, r"out has shape \(\d+, \d+, \d+, \d+\), expected \(\d+, \d+, \d+, \d+\) "
                 r"at pool 2x2, stride 1", id="bug_stride_as_pool"),
    pytest.param("bug_hardcoded_2x2", None, r"out is wrong at pool 3x3, stride 2", id="bug_hardcoded_2x2"),
    pytest.param("bug_hout_both_axes", None, r"out has shape \(\d+, \d+, (\d+), \1\), expected \(\d+, \d+, \1, (?!\1\))\d+",
                 id="bug_hout_both_axes"),
    pytest.param("bug_every_tie", None, r"dx is wrong .*Every tied maximum of a window got the window's whole gradient",
                 id="bug_every_tie"),
    pytest.param("bug_assign_overlap", None, r"dx is wrong at pool 2x2, stride 1 .*The windows overlap here \(stride "
                 r"smaller than the pool\), and each window's gradient was assigned into dx", id="bug_assign_overlap"),
    pytest.param("hostile_writes_input", 90, r"max_pool_forward_naive changed its input x at pool 2x2, stride 2 "
                 r"\(x \(2, 3, 4, 4\)\).*Your own process reported: max_pool_forward_naive changed its input pool_param",
                 id="hostile_writes_input"),
    pytest.param("hostile_lying_array", 0, r"out is a hostile_lying_array\.Agreeable, expected a numpy\.ndarray",
                 id="hostile_lying_array"),
]


@pytest.fixture(scope="module")
def maxpool_config():
    return GradingConfig(assignment="cs231n-maxpool", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(maxpool_config):
    """Each example graded once (a module's tests share them: the leaderboard test too)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, maxpool_config,
                                              seed=SEED) for param in EXAMPLES}


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_maxpool_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-maxpool"
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_maxpool_results_make_a_leaderboard(graded):
    """The generic leaderboard ranks max-pool results by the same rules: the two right
    answers rank first, a wrong backward is not ranked."""
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-maxpool" and len(board.entries) == len(EXAMPLES)
    status = {e.student_id: e.status for e in board.entries}
    assert status["naive_loops"] == status["split_ties"] == "ranked"
    assert status["bug_every_tie"] == "failed_correctness"
    assert {e.student_id for e in board.entries[:2]} == {"naive_loops", "split_ties"}


def test_notebook_forward_matches_the_published_planes():
    case = pack.notebook_cases()[0]
    out, _ = maxpool.max_pool_forward(case.x, case.pool_param)
    np.testing.assert_allclose(out[0, 0], pack.NOTEBOOK_FIRST_PLANE, atol=5e-9)
    np.testing.assert_allclose(out[-1, -1], pack.NOTEBOOK_LAST_PLANE, atol=5e-9)


def _numerical_dx(x, dout, param, h=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(maxpool.max_pool_forward_loops(x, param)[0] * dout)
        x[index] = old - h
        minus = np.sum(maxpool.max_pool_forward_loops(x, param)[0] * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def test_references_agree_and_match_the_numerical_gradient():
    """The fast references against the loops on every hidden shape (ties included), and
    the notebook's backward case against a numerical gradient (it prints about 1e-12)."""
    for case in pack.hidden_cases(11, len(pack.HIDDEN_SHAPES)):
        out, cache = maxpool.max_pool_forward(case.x, case.pool_param)
        loops_out, loops_cache = maxpool.max_pool_forward_loops(case.x, case.pool_param)
        assert np.array_equal(out, loops_out), case.where
        np.testing.assert_allclose(maxpool.max_pool_backward(case.dout, cache),
                                   maxpool.max_pool_backward_loops(case.dout, loops_cache), rtol=1e-13, atol=1e-14)
        # Both accepted answers pass exactly dout through each window, in sum.
        for dx in (maxpool.max_pool_backward(case.dout, cache), maxpool.max_pool_backward_split(case.dout, cache)):
            assert np.isclose(dx.sum(), case.dout.sum()), case.where
    case = pack.notebook_cases()[1]
    _, cache = maxpool.max_pool_forward(case.x, case.pool_param)
    dx = maxpool.max_pool_backward(case.dout, cache)
    numerical = _numerical_dx(case.x.copy(), case.dout, case.pool_param)
    assert np.max(np.abs(dx - numerical) / np.maximum(1e-8, np.abs(dx) + np.abs(numerical))) < 1e-8


def test_tie_cases_hold_ties_that_tell_the_two_answers_apart():
    """The hidden shapes that promise ties have them, whatever the seed: there the two
    accepted answers differ, and giving every tie the whole gradient is caught."""
    tie_indices = [i for i, shape in enumerate(pack.HIDDEN_SHAPES) if shape[5]]
    for seed in range(5):
        cases = pack.hidden_cases(seed, len(pack.HIDDEN_SHAPES))
        for index in tie_indices:
            case = cases[index]
            accepted = pack.expected_outputs(case)["dx"]
            assert isinstance(accepted, tuple) and len(accepted) == 2, case.where
            _, cache = maxpool.max_pool_forward(case.x, case.pool_param)
            every_tie = maxpool.max_pool_backward_every_tie(case.dout, cache)
            assert pack.wrong_answer_note(case, "dx", every_tie)
            assert not any(np.allclose(every_tie, dx) for dx in accepted)


@pytest.mark.docker
@pytest.mark.slow
def test_docker_grades_a_maxpool_submission_as_the_process_sandbox_does(docker_client, maxpool_config, graded):
    """One max-pool grading in a container: the same checks, messages and score as the
    process sandbox's (the image carries every pack)."""
    result = grade_submission(EXAMPLES_DIR / "bug_every_tie.py", get_sandbox("docker"), maxpool_config, seed=SEED)
    assert result.gradable, result.failure
    process = graded["bug_every_tie"]
    assert result.score == process.score
    assert [(c.id, c.status, c.message) for c in result.checks] == [(c.id, c.status, c.message) for c in process.checks]
