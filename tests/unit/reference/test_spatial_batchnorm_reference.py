"""The spatial batch-normalization references against numerical gradients and a direct
per-channel computation, and the pack's cases against each layout bug (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_spatial_batchnorm as pack
from grader.harness.checks import rel_error
from reference import batchnorm


def _complex_step(f, x, dout, h=1e-30):
    """d sum(f() * dout) / dx by the complex step (Im f(x + ih) / h): no subtraction, so
    exact to rounding. Centred differences at the notebook's h = 1e-5 reach only about
    3e-7 on this case's dx (the notebook itself prints a dx error of that size)."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + 1j * h
        grad[index] = np.sum(f().imag * dout) / h
        x[index] = old
    return grad


def test_the_backward_matches_the_numerical_gradient_on_the_notebooks_case():
    """The reference's forward is analytic in its inputs (no abs, no conjugate), so the
    complex step differentiates it."""
    case = next(c for c in pack.notebook_cases() if c.id == "notebook-backward")
    x, gamma, beta = (case.xs[0].astype(complex), case.gamma.astype(complex), case.beta.astype(complex))
    dout = case.dout

    def forward():
        return batchnorm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    numerical = [_complex_step(forward, value, dout) for value in (x, gamma, beta)]
    x, gamma, beta = case.xs[0], case.gamma, case.beta
    _, cache = batchnorm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for analytic, expected in zip(batchnorm.spatial_batchnorm_backward(dout, cache), numerical):
        assert rel_error(analytic, expected) <= 1e-8


def test_the_forward_normalises_each_channel_over_n_h_and_w():
    for case in pack.hidden_cases(3, len(pack.HIDDEN_SHAPES)):
        x = case.xs[0]
        param = {"mode": "train", **case.bn_param}
        out, _ = batchnorm.spatial_batchnorm_forward(x, case.gamma, case.beta, param)
        eps = case.bn_param.get("eps", 1e-5)
        mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
        direct = case.gamma[None, :, None, None] * (x - mean) / np.sqrt(var + eps) + case.beta[None, :, None, None]
        assert rel_error(out, direct) <= 1e-10, case.where


@pytest.mark.parametrize("bug", sorted(batchnorm.SPATIAL_BUGS))
def test_every_hidden_case_catches_each_layout_bug_and_names_it(bug):
    tolerance = pack.DEFAULT_RUBRIC["tolerance"]
    for case in pack.hidden_cases(0, len(pack.HIDDEN_SHAPES)):
        expected = pack.expected_outputs(case)
        bug_out = next(value for call, label, value in pack._bug_values_of(case, bug) if label == "out")
        assert rel_error(bug_out, expected[("forward_train", "out")]) > tolerance, case.where
        assert pack.BUG_NOTES[bug] in pack.wrong_answer_note(case, "out", bug_out)


def test_the_notebook_cases_read_as_the_notebook_says():
    train, test, _ = pack.notebook_cases()
    out = pack.expected_outputs(train)[("forward_train", "out")]
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), [6, 7, 8], atol=1e-6)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), [3, 4, 5], atol=1e-3)
    out = pack.expected_outputs(test)[("forward_test", "out")]
    assert np.all(np.abs(out.mean(axis=(0, 2, 3))) < 0.2) and np.all(np.abs(out.std(axis=(0, 2, 3)) - 1) < 0.2)
