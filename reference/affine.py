"""Trusted affine (fully connected) layer references for the CS231n API:

    affine_forward(x, w, b) -> (out, cache)
    affine_backward(dout, cache) -> (dx, dw, db)

with x (N, d1, ..., dk) flattened row by row to (N, D), D = d1 * ... * dk, w (D, M),
b (M,), out (N, M). dx has x's own shape (N, d1, ..., dk), dw (D, M) and db (M,).
Pure numpy; inputs are never modified.

    affine_forward / affine_backward       one matrix product each (BLAS): the fast
        yardstick.
    affine_forward_loops / affine_backward_loops   one loop per output element and
        per weight: slow, obviously right, and the check on the fast pair.

The cache is (x, w, b) with x unflattened, as the starter code stores it; both styles
read each other's caches.
"""

from __future__ import annotations

import numpy as np


def _check(x_shape, w_shape, b_shape) -> tuple[int, int, int]:
    """(N, D, M), refusing shapes that do not fit together."""
    if len(x_shape) < 1 or len(w_shape) != 2 or len(b_shape) != 1:
        raise ValueError(f"x {tuple(x_shape)}, w {tuple(w_shape)}, b {tuple(b_shape)}: "
                         "expected x (N, d1, ..., dk), w (D, M), b (M,)")
    n, d, m = x_shape[0], int(np.prod(x_shape[1:], dtype=np.int64)), w_shape[1]
    if w_shape[0] != d or b_shape[0] != m:
        raise ValueError(f"x {tuple(x_shape)} flattens to D = {d}, but w is {tuple(w_shape)} and b {tuple(b_shape)}")
    return n, d, m


def affine_forward(x, w, b):
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    n, d, _ = _check(x.shape, w.shape, b.shape)
    out = x.reshape(n, d) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    n, d, _ = _check(x.shape, w.shape, b.shape)
    dout = np.asarray(dout)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(n, d).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def affine_forward_loops(x, w, b):
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    n, d, m = _check(x.shape, w.shape, b.shape)
    rows = x.reshape(n, d)
    out = np.empty((n, m), np.result_type(x, w, b))
    for i in range(n):
        for j in range(m):
            total = b[j]
            for k in range(d):
                total = total + rows[i, k] * w[k, j]
            out[i, j] = total
    return out, (x, w, b)


def affine_backward_loops(dout, cache):
    x, w, b = cache
    n, d, m = _check(x.shape, w.shape, b.shape)
    rows = x.reshape(n, d)
    dtype = np.result_type(x, w, b, dout)
    dx_rows, dw, db = np.zeros((n, d), dtype), np.zeros((d, m), dtype), np.zeros(m, dtype)
    for i in range(n):
        for j in range(m):
            db[j] += dout[i, j]
            for k in range(d):
                dx_rows[i, k] += dout[i, j] * w[k, j]
                dw[k, j] += rows[i, k] * dout[i, j]
    return dx_rows.reshape(x.shape), dw, db
