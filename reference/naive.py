"""The obvious convolution: one loop per index of the output, as the assignment asks.

Slow (seconds at the notebook's speed-cell size) but easy to check by eye, so it
anchors the other two references. The cache is the starter code's
``(x, w, b, conv_param)``.
"""

from __future__ import annotations

import numpy as np

from .validate import check_dout, conv_geometry, result_dtype


def conv_forward(x, w, b, conv_param):
    """out[n, f, i, j] = sum(x_pad[n, :, window(i, j)] * w[f]) + b[f]; returns (out, cache)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    g = conv_geometry(x, w, b, conv_param)
    dtype = result_dtype(x, w, b)
    x_pad = _pad(x, g.pad, dtype)

    out = np.empty((g.N, g.F, g.H_out, g.W_out), dtype)
    for n in range(g.N):
        for f in range(g.F):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    top, left = i * g.stride, j * g.stride
                    window = x_pad[n, :, top : top + g.HH, left : left + g.WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    """Gradients (dx, dw, db) of the loss, given dout = dloss/dout."""
    x, w, b, conv_param = cache
    dout = np.asarray(dout)
    g = conv_geometry(x, w, b, conv_param)
    check_dout(dout, g)
    dtype = result_dtype(x, w, b, dout)
    x_pad = _pad(x, g.pad, dtype)

    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros(w.shape, dtype)
    db = np.zeros(b.shape, dtype)
    for n in range(g.N):
        for f in range(g.F):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    top, left = i * g.stride, j * g.stride
                    rows, cols = slice(top, top + g.HH), slice(left, left + g.WW)
                    upstream = dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += upstream * w[f]
                    dw[f] += upstream * x_pad[n, :, rows, cols]
                    db[f] += upstream
    dx = dx_pad[:, :, g.pad : g.pad + g.H, g.pad : g.pad + g.W]
    return dx, dw, db


def _pad(x: np.ndarray, pad: int, dtype: np.dtype) -> np.ndarray:
    """A zero-padded copy of x in the working dtype (np.pad always copies, so x is safe)."""
    return np.pad(x.astype(dtype, copy=False), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
