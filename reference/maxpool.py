"""Trusted max-pooling references for the CS231n API:

    max_pool_forward(x, pool_param) -> (out, cache)
    max_pool_backward(dout, cache) -> dx

with x (N, C, H, W), pool_param {'pool_height', 'pool_width', 'stride'}, no padding,
out (N, C, H', W'), H' = 1 + (H - pool_height) // stride. Pure numpy; inputs are
never modified.

    max_pool_forward / max_pool_backward   strided window views: the fast yardstick
        students are timed against. Backward routes each window's gradient to its
        FIRST maximum (row-major), as the usual loop solution does.
    max_pool_backward_split                 the other accepted subgradient: a
        window's gradient split equally among its tied maxima (what CS231n's own
        fast layer does).
    max_pool_forward_loops / max_pool_backward_loops   one loop per output index:
        slow, obviously right, and the check on the fast pair.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pool_geometry(x_shape, pool_param) -> tuple[int, int, int, int, int]:
    """(pool_height, pool_width, stride, H', W'), refusing a pool that does not fit."""
    ph, pw, stride = int(pool_param["pool_height"]), int(pool_param["pool_width"]), int(pool_param["stride"])
    _, _, h, w = x_shape
    if min(ph, pw, stride) < 1 or ph > h or pw > w:
        raise ValueError(f"pool {ph}x{pw}, stride {stride} does not fit x of shape {tuple(x_shape)}")
    return ph, pw, stride, 1 + (h - ph) // stride, 1 + (w - pw) // stride


def _windows(x, ph, pw, stride, h_out, w_out):
    """(N, C, H', W', ph, pw) view of every pooling window, no copy."""
    view = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    return view[:, :, :h_out, :w_out]


def max_pool_forward(x, pool_param):
    x = np.asarray(x)
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    out = _windows(x, ph, pw, stride, h_out, w_out).max(axis=(4, 5))
    return out, (x, dict(pool_param))


def _scatter(dx, weights, stride, h_out, w_out):
    """dx[n, c, i*stride + a, j*stride + b] += weights[n, c, i, j, a, b], one strided
    slab per offset (a, b) of the window: overlapping windows add up."""
    ph, pw = weights.shape[4:]
    for a in range(ph):
        for b in range(pw):
            dx[:, :, a:a + stride * (h_out - 1) + 1:stride, b:b + stride * (w_out - 1) + 1:stride] += weights[..., a, b]


def max_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    windows = _windows(x, ph, pw, stride, h_out, w_out).reshape(*x.shape[:2], h_out, w_out, ph * pw)
    first = windows.argmax(axis=4)  # the first maximum of each window, row-major
    routed = (np.arange(ph * pw) == first[..., None]) * np.asarray(dout)[..., None]
    dx = np.zeros(x.shape, np.result_type(x, dout))
    _scatter(dx, routed.reshape(*x.shape[:2], h_out, w_out, ph, pw), stride, h_out, w_out)
    return dx


def max_pool_backward_split(dout, cache):
    return _to_tied_maxima(dout, cache, split=True)


def max_pool_backward_every_tie(dout, cache):
    """NOT a gradient: every tied maximum gets the window's whole gradient. The classic
    bug, computed so the grader can name it when a student's dx is exactly this."""
    return _to_tied_maxima(dout, cache, split=False)


def _to_tied_maxima(dout, cache, split: bool):
    x, pool_param = cache
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    windows = _windows(x, ph, pw, stride, h_out, w_out)
    tied = windows == windows.max(axis=(4, 5), keepdims=True)
    share = np.asarray(dout)[..., None, None]
    if split:
        share = share / tied.sum(axis=(4, 5), keepdims=True)
    dx = np.zeros(x.shape, np.result_type(x, dout))
    _scatter(dx, tied * share, stride, h_out, w_out)
    return dx


def max_pool_forward_loops(x, pool_param):
    x = np.asarray(x)
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    n, c = x.shape[:2]
    out = np.empty((n, c, h_out, w_out), x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].max(axis=(2, 3))
    return out, (x, dict(pool_param))


def max_pool_backward_loops(dout, cache):
    x, pool_param = cache
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    dx = np.zeros(x.shape, np.result_type(x, dout))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dx


def max_pool_backward_window_assign(dout, cache):
    """A real bug, for naming it: each window's gradient *assigned* into its slice of dx
    (``dx[.., window] = (window == max) * dout``) instead of added. Right where windows do
    not overlap; where they do (stride smaller than the pool), a later window wipes what an
    earlier one routed, zeros included. Windows in the template's order (rows, then columns)."""
    x, pool_param = cache
    ph, pw, stride, h_out, w_out = pool_geometry(x.shape, pool_param)
    dx = np.zeros(x.shape, np.result_type(x, dout))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            top = window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] = (window == top) * dout[:, :, i, j, None, None]
    return dx
