"""The batch-normalization references against numerical gradients and each other, and
the pack's cases against each known bug (pure: no process is started)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_batchnorm as pack
from grader.harness.checks import rel_error
from reference import batchnorm


def _numerical(f, x, dout, h=1e-5):
    """Centred differences of sum(f() * dout) in x (the notebook's eval_numerical_gradient_array)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + h
        plus = f().copy()
        x[index] = old - h
        minus = f().copy()
        x[index] = old
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def test_both_backwards_match_the_numerical_gradient_on_the_notebooks_case():
    """The notebook's gradient check (seed 231, N, D = 4, 5): it expects 1e-13 to 1e-8."""
    case = next(c for c in pack.notebook_cases() if c.id == "notebook-backward")
    x, gamma, beta, dout = case.xs[0].copy(), case.gamma.copy(), case.beta.copy(), case.dout

    def forward():
        return batchnorm.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    numerical = [_numerical(forward, value, dout) for value in (x, gamma, beta)]
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for backward in (batchnorm.batchnorm_backward, batchnorm.batchnorm_backward_alt):
        for analytic, expected in zip(backward(dout, cache), numerical):
            assert rel_error(analytic, expected) <= 1e-8, backward.__name__


def test_the_two_backwards_agree_on_every_hidden_case():
    for case in pack.hidden_cases(5, len(pack.HIDDEN_SHAPES)):
        _, cache = batchnorm.batchnorm_forward(case.xs[0], case.gamma, case.beta, {"mode": "train", **case.bn_param})
        for graph, alt in zip(batchnorm.batchnorm_backward(case.dout, cache),
                              batchnorm.batchnorm_backward_alt(case.dout, cache)):
            assert rel_error(graph, alt) <= 1e-10, case.where


def test_train_mode_writes_the_running_statistics_and_leaves_its_inputs():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    running = rng.standard_normal(4)
    param = {"mode": "train", "momentum": 0.8, "running_mean": running, "running_var": running**2}
    before = {key: np.copy(value) for key, value in param.items()}
    batchnorm.batchnorm_forward(x, gamma, beta, param)
    np.testing.assert_allclose(param["running_mean"], 0.8 * before["running_mean"] + 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(param["running_var"], 0.8 * before["running_var"] + 0.2 * x.var(axis=0))
    assert np.array_equal(running, before["running_mean"])  # new arrays, the given ones untouched


def test_the_notebook_cases_read_as_the_notebook_says():
    """Train forward: means about beta, stds about gamma; test after 50 train calls:
    means about 0, stds about 1 (the notebook's printed expectations)."""
    train, test, _ = pack.notebook_cases()
    out = pack.expected_outputs(train)[("forward_train", "out")]
    np.testing.assert_allclose(out.mean(axis=0), [11, 12, 13], atol=1e-6)
    np.testing.assert_allclose(out.std(axis=0), [1, 2, 3], atol=1e-4)
    out = pack.expected_outputs(test)[("forward_test", "out")]
    assert np.all(np.abs(out.mean(axis=0)) < 0.2) and np.all(np.abs(out.std(axis=0) - 1) < 0.2)


@pytest.mark.parametrize("bug", sorted(batchnorm.BUGS))
def test_every_hidden_case_set_catches_each_bug_and_names_it(bug):
    """With the grading tolerance, each bug makes some hidden check fail, whatever the
    seed, and the pack's note names the bug there."""
    tolerance = pack.DEFAULT_RUBRIC["tolerance"]
    for seed in range(3):
        caught = []
        for case in pack.hidden_cases(seed, len(pack.HIDDEN_SHAPES)):
            expected = pack.expected_outputs(case)
            for call, label, value in pack._bug_values(case, bug):
                if value.shape != expected[(call, label)].shape or rel_error(value, expected[(call, label)]) > tolerance:
                    caught.append((case.id, call, label))
                    assert pack.BUG_NOTES[bug] in pack.wrong_answer_note(case, label, value)
        assert caught, f"seed {seed}: no hidden check catches {bug}"


def test_a_right_running_statistic_is_not_taken_for_a_bug():
    """The notes compare a wrong answer with each bug's: the right statistics never match
    the three bugs that change them from the first call on."""
    for case in pack.hidden_cases(1, len(pack.HIDDEN_SHAPES)):
        expected = pack.expected_outputs(case)
        for call in ("forward_train", "forward_train_again"):
            for label in pack.RUNNING:
                note = pack.wrong_answer_note(case, label, expected[(call, label)])
                for bug in ("stored_eps", "unbiased_variance", "swapped_momentum"):
                    assert pack.BUG_NOTES[bug] not in note, (case.id, call, label)


def test_the_check_plan_lists_what_a_grading_records():
    plan = pack.check_plan(2)
    ids = [check["id"] for check in plan]
    assert ids[:3] == ["forward_train/notebook-train", "forward_train/notebook-train/running_mean",
                       "forward_train/notebook-train/running_var"]
    assert "backward_alt/hidden-2/dbeta" in ids and ids[-1] == "inputs-unchanged"
    assert len(ids) == len(set(ids))
    assert {check["group"] for check in plan} <= set(pack.DEFAULT_RUBRIC["points"])
