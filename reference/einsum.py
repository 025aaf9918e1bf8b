"""Convolution with one einsum per output position, over the whole batch and all filters.

The popular middle road between loops and im2col: a Python loop over the H' x W'
output positions only, each contracting a (N, C, HH, WW) window with the
(F, C, HH, WW) weights. Each output axis has its own loop variable (mixing them
up is a classic bug on non-square outputs) and the bias is added once, after the
loop. The cache is the starter code's ``(x, w, b, conv_param)``.
"""

from __future__ import annotations

import numpy as np

from .validate import check_dout, conv_geometry, result_dtype


def conv_forward(x, w, b, conv_param):
    """out[:, :, i, j] = einsum('ijkl,pjkl->ip', window(i, j), w), plus b; returns (out, cache)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    g = conv_geometry(x, w, b, conv_param)
    dtype = result_dtype(x, w, b)
    x_pad = _pad(x, g.pad, dtype)
    weights = w.astype(dtype, copy=False)

    out = np.empty((g.N, g.F, g.H_out, g.W_out), dtype)
    for i in range(g.H_out):
        for j in range(g.W_out):
            out[:, :, i, j] = np.einsum("ijkl,pjkl->ip", _window(x_pad, g, i, j), weights)
    out += b.astype(dtype, copy=False)[None, :, None, None]
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    """Gradients (dx, dw, db) of the loss, given dout = dloss/dout."""
    x, w, b, conv_param = cache
    dout = np.asarray(dout)
    g = conv_geometry(x, w, b, conv_param)
    check_dout(dout, g)
    dtype = result_dtype(x, w, b, dout)
    x_pad = _pad(x, g.pad, dtype)
    weights = w.astype(dtype, copy=False)
    dout = dout.astype(dtype, copy=False)

    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros(w.shape, dtype)
    for i in range(g.H_out):
        for j in range(g.W_out):
            upstream = dout[:, :, i, j]  # (N, F)
            dw += np.einsum("ip,ijkl->pjkl", upstream, _window(x_pad, g, i, j))
            dx_window = _window(dx_pad, g, i, j)  # a view: += writes into dx_pad
            dx_window += np.einsum("ip,pjkl->ijkl", upstream, weights)
    db = dout.sum(axis=(0, 2, 3))
    dx = dx_pad[:, :, g.pad : g.pad + g.H, g.pad : g.pad + g.W]
    return dx, dw, db


def _window(images: np.ndarray, g, i: int, j: int) -> np.ndarray:
    """The (N, C, HH, WW) view of the padded images that output position (i, j) sees."""
    top, left = i * g.stride, j * g.stride
    return images[:, :, top : top + g.HH, left : left + g.WW]


def _pad(x: np.ndarray, pad: int, dtype: np.dtype) -> np.ndarray:
    """A zero-padded copy of x in the working dtype (np.pad always copies, so x is safe)."""
    return np.pad(x.astype(dtype, copy=False), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
