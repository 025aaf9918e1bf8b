"""The dropout reference against the notebook's backward check: dx from the seeded forward's
mask agrees with a numerical gradient through that same seeded forward (the notebook's
eval_numerical_gradient_array, h = 1e-5), to rel_error <= 1e-8; and test mode is the identity
in both passes."""

from __future__ import annotations

import numpy as np

from grader.harness.assignments import cs231n_dropout as pack
from reference import dropout


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _numerical_dx(x: np.ndarray, dout: np.ndarray, param: dict, h: float = 1e-5) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + h
        plus = dropout.dropout_forward(x, param)[0]  # the seed redraws the same mask each time
        x[index] = old - h
        minus = dropout.dropout_forward(x, param)[0]
        x[index] = old
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def test_backward_matches_the_numerical_gradient_on_every_train_case():
    cases = [c for c in pack.notebook_cases() + pack.hidden_cases(3, len(pack.HIDDEN_SHAPES))
             if c.dropout_param["mode"] == "train" and c.x.size <= 10_000]
    assert [c.id for c in cases][:1] == ["notebook-backward"] and len(cases) >= 3
    for case in cases:
        _, cache = dropout.dropout_forward(case.x, case.dropout_param)
        dx = dropout.dropout_backward(case.dout, cache)
        assert _rel_error(dx, _numerical_dx(case.x.copy(), case.dout, case.dropout_param)) <= 1e-8, case.id


def test_reference_satisfies_the_properties_it_is_never_compared_on():
    """Seeded twice the same, kept units x / p, their share near p, test mode x."""
    case = pack.notebook_cases()[0]
    first, _ = dropout.dropout_forward(case.x, case.dropout_param)
    second, _ = dropout.dropout_forward(case.x, case.dropout_param)
    assert np.array_equal(first, second)
    kept = first != 0
    assert np.array_equal(first[kept], case.x[kept] / case.keep)
    assert abs(kept.mean() - case.keep) < 0.01
    test_out, cache = dropout.dropout_forward(case.x, {"mode": "test", "p": case.keep})
    assert np.array_equal(test_out, case.x) and test_out is not case.x
    assert np.array_equal(dropout.dropout_backward(case.dout, cache), case.dout)


def test_reference_refuses_a_p_outside_the_keep_range():
    x = np.ones((2, 2))
    for p in (0.0, 1.5):
        try:
            dropout.dropout_forward(x, {"mode": "train", "p": p})
        except ValueError as exc:
            assert "keep probability" in str(exc)
        else:
            raise AssertionError(f"p = {p} accepted")
