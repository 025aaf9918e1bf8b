"""The layer-norm and group-norm references (reference/layernorm.py, reference/groupnorm.py)
against each other and against numerical gradients, on the notebooks' cases and every
hidden shape of their packs; and the packs' notebook inputs against the notebooks' printed
figures. No process starts here.

The numerical gradients use a five-point central difference (error O(h^4)): the notebook's
two-point one with h = 1e-5 prints dx errors up to 5e-8 for group norm, too coarse to hold
the references to rel_error <= 1e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_groupnorm as groupnorm_pack
from grader.harness.assignments import cs231n_layernorm as layernorm_pack
from reference import groupnorm, layernorm

H = 1e-3


def rel_error(x, y) -> float:
    """The notebook's measure: max(|x - y| / max(1e-8, |x| + |y|))."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, array: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """d sum(f() * dout) / d array, element by element (array is changed and restored). The
    step scales with the array's spread: the cases of spread 0.01 need a step that small
    for the normalisation to stay near linear over it."""
    h = H * min(1.0, float(array.std()) or 1.0)
    grad = np.zeros_like(array)
    for index in np.ndindex(*array.shape):
        old = array[index]
        values = []
        for step in (2, 1, -1, -2):
            array[index] = old + step * h
            values.append(np.sum(f() * dout))
        array[index] = old
        grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def _layernorm_cases():
    return layernorm_pack.notebook_cases()[1:] + layernorm_pack.hidden_cases(5, len(layernorm_pack.HIDDEN_SHAPES))


def _groupnorm_cases():
    return groupnorm_pack.notebook_cases()[1:] + groupnorm_pack.hidden_cases(5, len(groupnorm_pack.HIDDEN_SHAPES))


@pytest.mark.parametrize("case", _layernorm_cases(), ids=lambda c: c.id)
def test_layernorm_backward_matches_numerical_gradients(case):
    x, gamma, beta = case.x.copy(), case.gamma.copy(), case.beta.copy()
    _, cache = layernorm.layernorm_forward(x, gamma, beta, case.ln_param)
    dx, dgamma, dbeta = layernorm.layernorm_backward(case.dout, cache)

    def forward():
        return layernorm.layernorm_forward(x, gamma, beta, case.ln_param)[0]

    assert rel_error(dx, numerical_gradient(forward, x, case.dout)) <= 1e-8
    assert rel_error(dgamma, numerical_gradient(forward, gamma, case.dout)) <= 1e-8
    assert rel_error(dbeta, numerical_gradient(forward, beta, case.dout)) <= 1e-8
    assert dgamma.shape == dbeta.shape == gamma.shape


@pytest.mark.parametrize("case", _groupnorm_cases(), ids=lambda c: c.id)
def test_groupnorm_backward_matches_numerical_gradients(case):
    x, gamma, beta = case.x.copy(), case.gamma.copy(), case.beta.copy()
    _, cache = groupnorm.spatial_groupnorm_forward(x, gamma, beta, case.G, case.gn_param)
    dx, dgamma, dbeta = groupnorm.spatial_groupnorm_backward(case.dout, cache)

    def forward():
        return groupnorm.spatial_groupnorm_forward(x, gamma, beta, case.G, case.gn_param)[0]

    assert rel_error(dx, numerical_gradient(forward, x, case.dout)) <= 1e-8
    assert rel_error(dgamma, numerical_gradient(forward, gamma, case.dout)) <= 1e-8
    assert rel_error(dbeta, numerical_gradient(forward, beta, case.dout)) <= 1e-8
    assert dgamma.shape == dbeta.shape == gamma.shape == (1, case.x.shape[1], 1, 1)


def test_layernorm_loops_agree_with_the_vectorised_pair():
    for case in _layernorm_cases() + layernorm_pack.notebook_cases()[:1]:
        out, cache = layernorm.layernorm_forward(case.x, case.gamma, case.beta, case.ln_param)
        loops_out, loops_cache = layernorm.layernorm_forward_loops(case.x, case.gamma, case.beta, case.ln_param)
        assert rel_error(out, loops_out) <= 1e-12, case.id
        for fast, slow in zip(layernorm.layernorm_backward(case.dout, cache),
                              layernorm.layernorm_backward_loops(case.dout, loops_cache)):
            assert rel_error(fast, slow) <= 1e-10, case.id


def test_groupnorm_loops_agree_with_the_vectorised_pair():
    for case in _groupnorm_cases() + groupnorm_pack.notebook_cases()[:1]:
        args = (case.x, case.gamma, case.beta, case.G, case.gn_param)
        out, cache = groupnorm.spatial_groupnorm_forward(*args)
        loops_out, loops_cache = groupnorm.spatial_groupnorm_forward_loops(*args)
        assert rel_error(out, loops_out) <= 1e-12, case.id
        for fast, slow in zip(groupnorm.spatial_groupnorm_backward(case.dout, cache),
                              groupnorm.spatial_groupnorm_backward_loops(case.dout, loops_cache)):
            assert rel_error(fast, slow) <= 1e-10, case.id


def test_references_leave_their_inputs_unchanged():
    case = layernorm_pack.hidden_cases(3, 1)[0]
    before = [a.copy() for a in (case.x, case.gamma, case.beta, case.dout)]
    _, cache = layernorm.layernorm_forward(case.x, case.gamma, case.beta, case.ln_param)
    layernorm.layernorm_backward(case.dout, cache)
    assert all(np.array_equal(a, b) for a, b in zip(before, (case.x, case.gamma, case.beta, case.dout)))
    case = groupnorm_pack.hidden_cases(3, 1)[0]
    before = [a.copy() for a in (case.x, case.gamma, case.beta, case.dout)]
    _, cache = groupnorm.spatial_groupnorm_forward(case.x, case.gamma, case.beta, case.G, case.gn_param)
    groupnorm.spatial_groupnorm_backward(case.dout, cache)
    assert all(np.array_equal(a, b) for a, b in zip(before, (case.x, case.gamma, case.beta, case.dout)))


def test_notebook_inputs_reproduce_the_printed_figures():
    """The packs rebuild the notebooks' inputs from seed 231: the figures the notebooks print
    before normalising say the rebuild is the same input."""
    x = layernorm_pack.notebook_cases()[0].x
    np.testing.assert_allclose(x.mean(axis=1), layernorm_pack.NOTEBOOK_MEANS_BEFORE, atol=5e-9)
    np.testing.assert_allclose(x.std(axis=1), layernorm_pack.NOTEBOOK_STDS_BEFORE, atol=5e-9)
    out = layernorm_pack.expected_outputs(layernorm_pack.notebook_cases()[0])["out"]
    np.testing.assert_allclose(out.std(axis=1), layernorm_pack.NOTEBOOK_STDS_AFTER, atol=5e-9)
    rows = groupnorm_pack.notebook_cases()[0].x.reshape(4, -1)
    np.testing.assert_allclose(rows.mean(axis=1), groupnorm_pack.NOTEBOOK_MEANS_BEFORE, atol=5e-9)
    np.testing.assert_allclose(rows.std(axis=1), groupnorm_pack.NOTEBOOK_STDS_BEFORE, atol=5e-9)


def test_the_named_bugs_differ_from_the_right_answer_on_every_hidden_shape():
    """Each hidden shape tells the right forward from the known wrong ones the packs name
    (where the bug is not the same as the right answer by construction: G = 1 or G = C
    make interleaved groups the same groups)."""
    for case in layernorm_pack.hidden_cases(9, len(layernorm_pack.HIDDEN_SHAPES)):
        args = (case.x, case.gamma, case.beta, case.ln_param)
        right = layernorm.layernorm_forward(*args)[0]
        assert rel_error(right, layernorm.layernorm_forward_batch_axis(*args)) > 1e-3, case.id
    for case in groupnorm_pack.hidden_cases(9, len(groupnorm_pack.HIDDEN_SHAPES)):
        args = (case.x, case.gamma, case.beta, case.G, case.gn_param)
        right = groupnorm.spatial_groupnorm_forward(*args)[0]
        if 1 < case.G < case.x.shape[1]:
            assert rel_error(right, groupnorm.spatial_groupnorm_forward_interleaved(*args)) > 1e-3, case.id
    # The cases of small variance make eps's place matter by far more than the tolerance.
    small = [c for c in groupnorm_pack.hidden_cases(9, 8) if c.x.std() < 0.5 * np.abs(c.x).mean()]
    for case in small:
        args = (case.x, case.gamma, case.beta, case.G, case.gn_param)
        assert rel_error(groupnorm.spatial_groupnorm_forward(*args)[0],
                         groupnorm.spatial_groupnorm_forward_eps_outside(*args)) > 1e-4, case.id
