"""The affine and ReLU references: the loop and the vectorised versions agree, both match
centered-difference numerical gradients (rel_error <= 1e-8, the issue's bar), the
notebook's printed outputs are reproduced, and no reference writes into its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_affine, cs231n_relu
from reference import affine, relu


def rel_error(x, y) -> float:
    """The notebook's: max(|x - y| / max(1e-8, |x| + |y|))."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, dout, h=1e-5):
    """d sum(f(x) * dout) / dx by centered differences, one element at a time (what the
    notebook's eval_numerical_gradient_array does, but differencing the outputs before
    summing them: the outputs a step leaves unchanged then add no rounding error)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x).copy()
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


AFFINE_CASES = cs231n_affine.notebook_cases() + cs231n_affine.hidden_cases(5, len(cs231n_affine.HIDDEN_SHAPES))
RELU_CASES = cs231n_relu.notebook_cases() + cs231n_relu.hidden_cases(5, len(cs231n_relu.HIDDEN_SHAPES))


@pytest.mark.parametrize("case", AFFINE_CASES, ids=lambda case: case.id)
def test_affine_loops_and_blas_agree_and_match_numerical_gradients(case):
    out, cache = affine.affine_forward(case.x, case.w, case.b)
    loops_out, loops_cache = affine.affine_forward_loops(case.x, case.w, case.b)
    assert out.shape == (case.x.shape[0], case.w.shape[1])
    assert rel_error(out, loops_out) <= 1e-12
    fast = affine.affine_backward(case.dout, cache)
    loops = affine.affine_backward_loops(case.dout, loops_cache)
    assert [g.shape for g in fast] == [case.x.shape, case.w.shape, case.b.shape]
    for a, b in zip(fast, loops):
        assert rel_error(a, b) <= 1e-12
    # The layer is linear in each of x, w and b, so a centered difference has no truncation
    # error at any step: h = 1e-3 rather than the notebook's 1e-5 only shrinks the rounding
    # error, which at 1e-5 reaches 1e-8 relative on the smallest gradient elements.
    x, w, b, h = case.x.copy(), case.w.copy(), case.b.copy(), 1e-3
    numerical = (numerical_gradient(lambda v: affine.affine_forward_loops(v, w, b)[0], x, case.dout, h),
                 numerical_gradient(lambda v: affine.affine_forward_loops(x, v, b)[0], w, case.dout, h),
                 numerical_gradient(lambda v: affine.affine_forward_loops(x, w, v)[0], b, case.dout, h))
    for label, analytic, numeric in zip(("dx", "dw", "db"), fast, numerical):
        assert rel_error(analytic, numeric) <= 1e-8, label


@pytest.mark.parametrize("case", RELU_CASES, ids=lambda case: case.id)
def test_relu_loops_and_vectorised_agree_and_match_numerical_gradients(case):
    out, cache = relu.relu_forward(case.x)
    loops_out, loops_cache = relu.relu_forward_loops(case.x)
    assert np.array_equal(out, loops_out) and out.shape == case.x.shape
    dx = relu.relu_backward(case.dout, cache)
    assert np.array_equal(dx, relu.relu_backward_loops(case.dout, loops_cache))
    # Away from 0 (farther than the step h) the ReLU is differentiable and the numerical
    # gradient is exact; at 0 it has none, and the two accepted answers differ only there.
    away = np.abs(case.x) > 1e-4
    numeric = numerical_gradient(lambda v: relu.relu_forward_loops(v)[0], case.x.copy(), case.dout)
    assert rel_error(dx[away], numeric[away]) <= 1e-8
    at_zero = relu.relu_backward_at_zero(case.dout, cache)
    assert np.array_equal(dx[case.x != 0], at_zero[case.x != 0])
    zeros = case.x == 0
    assert np.all(dx[zeros] == 0) and np.array_equal(at_zero[zeros], case.dout[zeros])


def test_notebook_outputs_are_reproduced():
    forward = cs231n_affine.notebook_cases()[0]
    out, _ = affine.affine_forward(forward.x, forward.w, forward.b)
    assert rel_error(out, cs231n_affine.NOTEBOOK_CORRECT_OUT) < 1e-8  # it prints "around e-9 or less"
    forward = cs231n_relu.notebook_cases()[0]
    out, _ = relu.relu_forward(forward.x)
    assert 4e-8 < rel_error(out, cs231n_relu.NOTEBOOK_CORRECT_OUT) < 6e-8  # it prints 5e-08 (8-decimal rounding)


def test_the_references_leave_their_inputs_alone():
    case = AFFINE_CASES[2]
    arrays = [case.x, case.w, case.b, case.dout]
    before = [a.copy() for a in arrays]
    for forward, backward in ((affine.affine_forward, affine.affine_backward),
                              (affine.affine_forward_loops, affine.affine_backward_loops)):
        backward(case.dout, forward(case.x, case.w, case.b)[1])
    assert all(np.array_equal(a, b) for a, b in zip(arrays, before))
    case = next(c for c in RELU_CASES if np.any(c.x == 0))
    x, dout = case.x.copy(), case.dout.copy()
    for forward, backward in ((relu.relu_forward, relu.relu_backward), (relu.relu_forward, relu.relu_backward_at_zero),
                              (relu.relu_forward_loops, relu.relu_backward_loops)):
        backward(case.dout, forward(case.x)[1])
    assert np.array_equal(case.x, x) and np.array_equal(case.dout, dout)


def test_relu_zero_cases_hold_zeros_whatever_the_seed():
    """The hidden shapes that promise exact zeros have them, so both conventions are
    really exercised there: expected_outputs lists two different answers."""
    promised = [i for i, (_, zeros) in enumerate(cs231n_relu.HIDDEN_SHAPES) if zeros]
    for seed in range(5):
        cases = cs231n_relu.hidden_cases(seed, len(cs231n_relu.HIDDEN_SHAPES))
        for index in promised:
            accepted = cs231n_relu.expected_outputs(cases[index])["dx"]
            assert isinstance(accepted, tuple) and len(accepted) == 2
            assert not np.array_equal(*accepted)


def test_affine_notes_name_exactly_the_shape_bugs():
    case = cs231n_affine.hidden_cases(1, 2)[1]  # x is 4-D
    expected = cs231n_affine.expected_outputs(case)
    n, m = case.dout.shape
    assert "keepdims" in cs231n_affine.wrong_answer_note(case, "db", expected["db"].reshape(1, m))
    assert "flattened" in cs231n_affine.wrong_answer_note(case, "dx", expected["dx"].reshape(n, -1))
    # Wrong numbers in those shapes are some other bug: no name is given.
    assert cs231n_affine.wrong_answer_note(case, "db", 2 * expected["db"].reshape(1, m)) == ""
    assert cs231n_affine.wrong_answer_note(case, "dx", 2 * expected["dx"].reshape(n, -1)) == ""
