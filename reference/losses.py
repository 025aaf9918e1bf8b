"""Trusted loss references for the CS231n API:

    svm_loss(x, y) -> (loss, dx)       multiclass hinge loss, margin 1
    softmax_loss(x, y) -> (loss, dx)   cross-entropy of the softmax

with x (N, C) class scores, y (N,) integer labels in [0, C); both losses are averaged
over the N samples, so dx is the gradient of that average. Pure numpy; inputs are never
modified. ``loss`` is returned as a 0-d array of x's dtype: the harness compares it like
any other result (a student's float or numpy scalar travels as the same 0-d array), and a
complex x gives the complex-step derivative (tests/unit/reference/test_losses.py).

    svm_loss / softmax_loss              vectorised: the yardstick students are timed against.
    svm_loss_loops / softmax_loss_loops  one sample (and one class) at a time: slow, obviously
        right, and the check on the vectorised pair.

The softmax subtracts each row's maximum before exponentiating: the result is the same in
exact arithmetic, and exp never overflows (logits near 1000 give inf / inf = NaN without it).
"""

from __future__ import annotations

import numpy as np


def _labels(x, y) -> tuple[np.ndarray, np.ndarray, int]:
    """x as an (N, C) array, y as integer labels, N; refusing labels out of range."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, C) and y (N,), got x {x.shape} and y {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= x.shape[1]):
        raise ValueError(f"labels must lie in [0, {x.shape[1]})")
    return x, y.astype(np.intp), x.shape[0]


def svm_loss(x, y):
    x, y, n = _labels(x, y)
    rows = np.arange(n)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0  # the correct class is no margin of its own
    loss = margins.sum() / n
    positive = (margins > 0).astype(x.dtype)
    positive[rows, y] = -positive.sum(axis=1)  # the correct score is subtracted once per positive margin
    return np.asarray(loss), positive / n


def softmax_loss(x, y):
    x, y, n = _labels(x, y)
    rows = np.arange(n)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / n
    dx = np.exp(log_probs)
    dx[rows, y] -= 1.0
    return np.asarray(loss), dx / n


def svm_loss_loops(x, y):
    x, y, n = _labels(x, y)
    loss, dx = 0.0, np.zeros_like(x, dtype=np.float64)
    for i in range(n):
        for j in range(x.shape[1]):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1.0
            if margin > 0:
                loss += margin
                dx[i, j] += 1.0
                dx[i, y[i]] -= 1.0
    return np.asarray(loss / n, dtype=np.float64), dx / n


def softmax_loss_loops(x, y):
    x, y, n = _labels(x, y)
    loss, dx = 0.0, np.zeros_like(x, dtype=np.float64)
    for i in range(n):
        scores = x[i] - np.max(x[i])
        total = sum(np.exp(s) for s in scores)
        loss += np.log(total) - scores[y[i]]
        for j in range(x.shape[1]):
            dx[i, j] = np.exp(scores[j]) / total - (1.0 if j == y[i] else 0.0)
    return np.asarray(loss / n, dtype=np.float64), dx / n
