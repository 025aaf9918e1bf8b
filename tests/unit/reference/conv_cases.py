"""Shared inputs and the notebook's error measure for the reference tests.

Importable by name because pytest puts this folder on sys.path (rootdir-style
tests, no __init__.py); the name is specific to avoid clashing with other folders.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest


def rel_error(x, y) -> float:
    """The notebook's measure: max(|x - y| / max(1e-8, |x| + |y|))."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


class Case(NamedTuple):
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    stride: int
    pad: int

    @property
    def conv_param(self) -> dict:
        return {"stride": self.stride, "pad": self.pad}

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        (N, _, H, W), (F, _, HH, WW) = self.x_shape, self.w_shape
        s, p = self.stride, self.pad
        return (N, F, 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s)

    def arrays(self, seed: int = 0, dtype=np.float64):
        """Random x, w, b and an upstream gradient dout for this case."""
        rng = np.random.default_rng(seed)
        x, w = rng.standard_normal(self.x_shape), rng.standard_normal(self.w_shape)
        b, dout = rng.standard_normal(self.w_shape[0]), rng.standard_normal(self.out_shape)
        return tuple(a.astype(dtype) for a in (x, w, b, dout))


# Every row exercises something a real submission gets wrong; H' x W' is in the comment.
GRID = [
    pytest.param(Case((2, 3, 4, 4), (3, 3, 4, 4), 2, 1), id="notebook-forward"),  # 2x2
    pytest.param(Case((4, 3, 5, 5), (2, 3, 3, 3), 1, 1), id="notebook-backward"),  # 5x5
    pytest.param(Case((2, 3, 6, 6), (2, 3, 3, 3), 1, 0), id="pad0-stride1"),  # 4x4
    pytest.param(Case((2, 3, 7, 9), (2, 3, 3, 3), 2, 0), id="pad0-stride2-nonsquare"),  # 3x4
    pytest.param(Case((2, 2, 7, 5), (3, 2, 2, 3), 3, 2), id="pad2-stride3-nonsquare-kernel"),  # 4x3
    pytest.param(Case((1, 2, 5, 4), (2, 2, 2, 3), 1, 3), id="pad3-stride1-nonsquare-out"),  # 10x8
    pytest.param(Case((2, 2, 3, 5), (2, 2, 2, 2), 1, 3), id="pad3-larger-than-kernel"),  # 8x10
    pytest.param(Case((2, 3, 8, 4), (2, 3, 3, 2), 3, 2), id="stride3-wider-than-kernel"),  # 4x3
    pytest.param(Case((1, 1, 5, 7), (1, 1, 3, 3), 2, 1), id="N1-C1-F1"),  # 3x4
    pytest.param(Case((2, 3, 5, 7), (4, 3, 1, 1), 2, 0), id="kernel1x1-stride2"),  # 3x4
    pytest.param(Case((2, 2, 4, 3), (3, 2, 1, 1), 1, 1), id="kernel1x1-pad1"),  # 6x5
    pytest.param(Case((2, 3, 4, 4), (2, 3, 6, 6), 1, 1), id="kernel-fills-padded-input"),  # 1x1
    pytest.param(Case((2, 2, 5, 3), (3, 2, 9, 7), 2, 2), id="kernel-fills-padded-nonsquare"),  # 1x1
    pytest.param(Case((1, 2, 6, 4), (2, 2, 8, 2), 2, 1), id="kernel-fills-padded-height-only"),  # 1x3
]

# The notebook's forward check (published with 8 decimals).
NOTEBOOK_FORWARD_CASE = Case((2, 3, 4, 4), (3, 3, 4, 4), 2, 1)
NOTEBOOK_FORWARD_OUT = np.array(
    [[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
      [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
      [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
     [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
      [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
      [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]]
)


def notebook_forward_arrays():
    """x, w, b of the notebook's forward check: linspaces, not random."""
    case = NOTEBOOK_FORWARD_CASE
    x = np.linspace(-0.1, 0.5, num=np.prod(case.x_shape)).reshape(case.x_shape)
    w = np.linspace(-0.2, 0.3, num=np.prod(case.w_shape)).reshape(case.w_shape)
    b = np.linspace(-0.1, 0.2, num=case.w_shape[0])
    return x, w, b


def notebook_backward_arrays():
    """x, w, b, dout of the notebook's backward check, drawn as the notebook does."""
    rng = np.random.RandomState(231)  # np.random.seed(231) then np.random.randn
    x = rng.randn(4, 3, 5, 5)
    w = rng.randn(2, 3, 3, 3)
    b = rng.randn(2)
    dout = rng.randn(4, 2, 5, 5)
    return x, w, b, dout
