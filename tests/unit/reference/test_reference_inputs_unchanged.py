"""No reference changes its arguments, or hands back an array that shares their memory.

Students' in-place bugs (x += ..., a padded view written into) corrupt the
caller's data; the references must be beyond suspicion. Inputs are passed
read-only, so any write raises at the spot, and compared with copies afterwards.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from tests.unit.reference.conv_cases import Case

from reference import IMPLEMENTATIONS

CASES = [
    pytest.param(Case((2, 3, 5, 7), (2, 3, 3, 3), 2, 0), np.float64, id="pad0-float64"),
    pytest.param(Case((2, 3, 5, 5), (2, 3, 3, 3), 1, 1), np.float64, id="pad1-float64"),
    pytest.param(Case((1, 2, 4, 4), (3, 2, 1, 1), 1, 0), np.float64, id="kernel1x1-pad0"),
    pytest.param(Case((2, 2, 5, 4), (2, 2, 3, 2), 2, 2), np.float32, id="pad2-float32"),
]


def read_only(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.flags.writeable = False
    return array


@pytest.mark.parametrize(("case", "dtype"), CASES)
@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_arguments_unchanged_and_not_aliased(name, case, dtype):
    module = IMPLEMENTATIONS[name]
    originals = case.arrays(seed=5, dtype=dtype)
    x, w, b, dout = (read_only(a) for a in originals)
    conv_param = case.conv_param
    conv_param_before = copy.deepcopy(conv_param)

    out, cache = module.conv_forward(x, w, b, conv_param)
    first = module.conv_backward(dout, cache)
    second = module.conv_backward(dout, cache)

    for given, original in zip((x, w, b, dout), originals):
        np.testing.assert_array_equal(given, original)
    assert conv_param == conv_param_before
    # Backward must not consume or corrupt its cache: a second call gives the same.
    for a, b_ in zip(first, second):
        np.testing.assert_array_equal(a, b_)
    for result in (out, *first):
        for argument in (x, w, b, dout):
            assert not np.shares_memory(result, argument)
