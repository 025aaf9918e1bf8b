"""Invalid arguments raise ValueError up front, and the message quotes both numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reference import IMPLEMENTATIONS
from reference.validate import ConvGeometry, check_dout, conv_geometry, result_dtype


def arrays(x_shape, w_shape, b_shape=None):
    b_shape = (w_shape[0],) if b_shape is None else b_shape
    return np.ones(x_shape), np.ones(w_shape), np.ones(b_shape)


OK_X, OK_W = (2, 3, 5, 5), (4, 3, 3, 3)

# (x, w, b), conv_param, the exact sentence expected in the message
INVALID = [
    pytest.param(arrays((3, 5, 5), OK_W), {"stride": 1, "pad": 1},
                 "x must be 4-D (N, C, H, W), got 3-D with shape (3, 5, 5)", id="x-3d"),
    pytest.param(arrays(OK_X, (4, 3, 3, 3, 1), (4,)), {"stride": 1, "pad": 1},
                 "w must be 4-D (F, C, HH, WW), got 5-D with shape (4, 3, 3, 3, 1)", id="w-5d"),
    pytest.param(arrays((0, 3, 5, 5), OK_W), {"stride": 1, "pad": 1},
                 "x must not have an empty axis, got shape (0, 3, 5, 5)", id="x-empty"),
    pytest.param(arrays(OK_X, (4, 2, 3, 3)), {"stride": 1, "pad": 1},
                 "x has 3 channels but w has 2", id="channels"),
    pytest.param(arrays(OK_X, OK_W, (3,)), {"stride": 1, "pad": 1},
                 "b must have shape (F,) = (4,) to match the 4 filters of w, got (3,)", id="b-length"),
    pytest.param(arrays(OK_X, OK_W, (4, 1)), {"stride": 1, "pad": 1},
                 "b must have shape (F,) = (4,) to match the 4 filters of w, got (4, 1)", id="b-2d"),
    pytest.param(arrays(OK_X, OK_W), {"stride": 1, "pad": -1},
                 "pad must be >= 0, got -1", id="pad-negative"),
    pytest.param(arrays(OK_X, OK_W), {"stride": 0, "pad": 1},
                 "stride must be >= 1, got 0", id="stride-0"),
    pytest.param(arrays(OK_X, OK_W), {"stride": 2.0, "pad": 1},
                 "stride must be an integer, got 2.0 of type float", id="stride-float"),
    pytest.param(arrays(OK_X, OK_W), {"stride": True, "pad": 1},
                 "stride must be an integer, got True of type bool", id="stride-bool"),
    pytest.param(arrays(OK_X, OK_W), {"stride": 1, "pad": "1"},
                 "pad must be an integer, got '1' of type str", id="pad-str"),
    pytest.param(arrays(OK_X, OK_W), {"stride": 1},
                 "conv_param has no 'pad'; its keys are [\"'stride'\"]", id="pad-missing"),
    pytest.param(arrays(OK_X, OK_W), (1, 1),
                 "conv_param must be a dict with 'stride' and 'pad', got tuple", id="param-not-dict"),
    pytest.param(arrays((1, 1, 4, 4), (1, 1, 7, 3)), {"stride": 1, "pad": 1},
                 "kernel HH = 7 is larger than the padded input H + 2*pad = 6", id="kernel-too-tall"),
    pytest.param(arrays((1, 1, 6, 4), (1, 1, 3, 5)), {"stride": 1, "pad": 0},
                 "kernel WW = 5 is larger than the padded input W + 2*pad = 4", id="kernel-too-wide"),
    pytest.param(arrays((1, 1, 6, 5), (1, 1, 3, 3)), {"stride": 2, "pad": 1},
                 "(H + 2*pad - HH) = 5 is not divisible by stride 2", id="H-not-divisible"),
    pytest.param(arrays((1, 1, 6, 7), (1, 1, 3, 2)), {"stride": 3, "pad": 0},
                 "(W + 2*pad - WW) = 5 is not divisible by stride 3", id="W-not-divisible"),
]


@pytest.mark.parametrize(("xwb", "conv_param", "message"), INVALID)
def test_conv_geometry_rejects(xwb, conv_param, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        conv_geometry(*xwb, conv_param)


@pytest.mark.parametrize(("xwb", "conv_param", "message"), INVALID)
@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_every_reference_forward_rejects(name, xwb, conv_param, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        IMPLEMENTATIONS[name].conv_forward(*xwb, conv_param)


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_every_reference_backward_rejects_a_dout_of_the_wrong_shape(name):
    module = IMPLEMENTATIONS[name]
    _, cache = module.conv_forward(*arrays(OK_X, OK_W), {"stride": 1, "pad": 1})
    message = "dout has shape (2, 4, 5, 4) but the forward output has shape (2, 4, 5, 5)"
    with pytest.raises(ValueError, match=re.escape(message)):
        module.conv_backward(np.ones((2, 4, 5, 4)), cache)


def test_geometry_of_a_valid_call():
    geometry = conv_geometry(*arrays((2, 3, 7, 9), (4, 3, 3, 5)), {"stride": np.int64(2), "pad": 1})
    assert geometry == ConvGeometry(N=2, C=3, H=7, W=9, F=4, HH=3, WW=5, stride=2, pad=1, H_out=4, W_out=4)
    assert all(type(size) is int for size in geometry)
    check_dout(np.ones((2, 4, 4, 4)), geometry)  # the right shape passes


@pytest.mark.parametrize(("dtypes", "expected"), [
    pytest.param((np.float32, np.float32), np.float32, id="float32"),
    pytest.param((np.float32, np.float64), np.float64, id="mixed-float"),
    pytest.param((np.int64, np.int32), np.float64, id="integers-promoted"),
    pytest.param((np.bool_, np.float32), np.float32, id="bool-and-float32"),
])
def test_result_dtype(dtypes, expected):
    assert result_dtype(*(np.zeros(1, d) for d in dtypes)) == expected


def test_result_dtype_rejects_complex():
    with pytest.raises(ValueError, match=re.escape("inputs must hold real numbers, got dtype complex128")):
        result_dtype(np.zeros(1), np.zeros(1, np.complex128))
