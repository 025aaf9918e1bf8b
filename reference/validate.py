"""Argument checks for the CS231n convolution API, shared by every reference.

The starter code trusts its arguments and fails later with an index error, a
broadcast error or, worse, silently wrong numbers. The references check up front
instead, and every message quotes both numbers that disagree, so the person who
reads it (a student, or a grader author writing a case generator) sees what to fix.

Only numpy and the standard library: this runs inside the grading container.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np


class ConvGeometry(NamedTuple):
    """The sizes of one convolution, named as in the assignment."""

    N: int  # images
    C: int  # channels
    H: int  # image height
    W: int  # image width
    F: int  # filters
    HH: int  # kernel height
    WW: int  # kernel width
    stride: int
    pad: int  # zeros added on each side of H and W
    H_out: int  # H' = 1 + (H + 2*pad - HH) / stride
    W_out: int  # W' = 1 + (W + 2*pad - WW) / stride


def conv_geometry(x, w, b, conv_param) -> ConvGeometry:
    """Check the arguments of ``conv_forward_naive`` and return the sizes they imply.

    Raises ValueError for anything the assignment does not define: arrays of the
    wrong rank or with an empty axis, channel or filter counts that disagree, a
    stride or pad that is not an integer in range, a kernel larger than the padded
    image, or an output size that is not a whole number.
    """
    N, C, H, W = _shape_4d("x", np.shape(x), "(N, C, H, W)")
    F, w_channels, HH, WW = _shape_4d("w", np.shape(w), "(F, C, HH, WW)")
    if w_channels != C:
        raise ValueError(f"x has {C} channels but w has {w_channels}")
    b_shape = np.shape(b)
    if b_shape != (F,):
        raise ValueError(f"b must have shape (F,) = ({F},) to match the {F} filters of w, got {b_shape}")

    if not isinstance(conv_param, Mapping):
        raise ValueError(
            f"conv_param must be a dict with 'stride' and 'pad', got {type(conv_param).__name__}"
        )
    stride = _integer_param(conv_param, "stride", minimum=1)
    pad = _integer_param(conv_param, "pad", minimum=0)

    H_out = _output_size("H", H, "HH", HH, pad, stride)
    W_out = _output_size("W", W, "WW", WW, pad, stride)
    return ConvGeometry(N, C, H, W, F, HH, WW, stride, pad, H_out, W_out)


def check_dout(dout, geometry: ConvGeometry) -> None:
    """Check that the upstream gradient has the shape the forward pass returned."""
    expected = (geometry.N, geometry.F, geometry.H_out, geometry.W_out)
    if np.shape(dout) != expected:
        raise ValueError(f"dout has shape {np.shape(dout)} but the forward output has shape {expected}")


def result_dtype(*arrays) -> np.dtype:
    """The dtype a convolution of these arrays is computed in and returned as.

    Floating inputs keep their common type (float32 in, float32 out), as a
    vectorised numpy solution does. Integer and boolean inputs are promoted to
    float64 rather than convolved in integers, because gradients are not integers.
    """
    dtype = np.result_type(*arrays)
    if np.issubdtype(dtype, np.floating):
        return dtype
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return np.dtype(np.float64)
    raise ValueError(f"inputs must hold real numbers, got dtype {dtype}")


def _shape_4d(name: str, shape: tuple, layout: str) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise ValueError(f"{name} must be 4-D {layout}, got {len(shape)}-D with shape {shape}")
    if 0 in shape:
        raise ValueError(f"{name} must not have an empty axis, got shape {shape}")
    return tuple(int(size) for size in shape)


def _integer_param(conv_param: Mapping, name: str, minimum: int) -> int:
    if name not in conv_param:
        raise ValueError(f"conv_param has no {name!r}; its keys are {sorted(map(repr, conv_param))}")
    value = conv_param[name]
    # bool is an Integral too, but {'stride': True} is a bug, not a stride of 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _output_size(axis: str, size: int, kernel_name: str, kernel: int, pad: int, stride: int) -> int:
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(
            f"kernel {kernel_name} = {kernel} is larger than the padded input "
            f"{axis} + 2*pad = {size + 2 * pad}"
        )
    if span % stride:
        # The assignment assumes this divides evenly; flooring (as the course's
        # fast layer does) would silently drop the last rows or columns.
        raise ValueError(f"({axis} + 2*pad - {kernel_name}) = {span} is not divisible by stride {stride}")
    return 1 + span // stride
