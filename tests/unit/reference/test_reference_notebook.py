"""Each reference passes the assignment notebook's own checks, at the notebook's tolerances.

Forward: the published output. Backward: centered-difference gradients of the
reference's own forward pass, as the notebook's eval_numerical_gradient_array does.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.reference.conv_cases import (
    NOTEBOOK_FORWARD_CASE,
    NOTEBOOK_FORWARD_OUT,
    Case,
    notebook_backward_arrays,
    notebook_forward_arrays,
    rel_error,
)

from reference import IMPLEMENTATIONS


def numeric_gradient(f, array: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d sum(f(array) * dout) / d array by centered differences, one element at a time."""
    array = array.copy()  # perturbed in place below; the caller's array stays as it was
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + h
        plus = f(array)
        array[index] = original - h
        minus = f(array)
        array[index] = original
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_forward_matches_published_output(name):
    x, w, b = notebook_forward_arrays()
    out, _ = IMPLEMENTATIONS[name].conv_forward(x, w, b, NOTEBOOK_FORWARD_CASE.conv_param)
    # The published values are rounded to 8 decimals, so a perfect answer shows 2.2e-8.
    assert rel_error(out, NOTEBOOK_FORWARD_OUT) < 3e-8


def notebook_backward_case():
    return Case((4, 3, 5, 5), (2, 3, 3, 3), 1, 1), notebook_backward_arrays()


def pad0_stride2_nonsquare_case():
    case = Case((2, 3, 7, 11), (3, 3, 3, 5), 2, 0)  # H' x W' = 3 x 4
    return case, case.arrays(seed=4)


@pytest.mark.parametrize("make_case", [notebook_backward_case, pad0_stride2_nonsquare_case],
                         ids=["notebook-backward", "pad0-stride2-nonsquare"])
@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_backward_matches_numeric_gradient(name, make_case):
    case, (x, w, b, dout) = make_case()
    module, param = IMPLEMENTATIONS[name], case.conv_param
    _, cache = module.conv_forward(x, w, b, param)
    dx, dw, db = module.conv_backward(dout, cache)

    dx_num = numeric_gradient(lambda x_: module.conv_forward(x_, w, b, param)[0], x, dout)
    dw_num = numeric_gradient(lambda w_: module.conv_forward(x, w_, b, param)[0], w, dout)
    db_num = numeric_gradient(lambda b_: module.conv_forward(x, w, b_, param)[0], b, dout)
    for label, analytic, numeric in (("dx", dx, dx_num), ("dw", dw, dw_num), ("db", db, db_num)):
        error = rel_error(analytic, numeric)
        assert error < 1e-7, f"{label} rel_error {error:.2e}"
