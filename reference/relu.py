"""Trusted ReLU references for the CS231n API:

    relu_forward(x) -> (out, cache)      out = max(0, x), any shape; cache = x
    relu_backward(dout, cache) -> dx     dout where x > 0, else 0

Pure numpy; inputs are never modified (the grader checks that students do not write
into x or dout either).

At x == 0 exactly the ReLU has no derivative: any dx between 0 and dout is a
subgradient. ``relu_backward`` passes 0 there (the mask ``x > 0``) and
``relu_backward_at_zero`` passes dout (the mask ``x >= 0``); the grader accepts
either, since students write both and the notebook's random inputs never hit 0.

    relu_forward / relu_backward    whole-array numpy: the fast yardstick.
    relu_forward_loops / relu_backward_loops   one element at a time over x.flat:
        slow, obviously right, and the check on the fast pair.
"""

from __future__ import annotations

import numpy as np


def relu_forward(x):
    x = np.asarray(x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    # A product with the boolean mask: 3x faster than np.where(x > 0, dout, 0) at the
    # timed size (2.5 against 8 ms here), and the fast reference is what students race.
    x = cache
    return np.asarray(dout) * (x > 0)


def relu_backward_at_zero(dout, cache):
    """The other accepted subgradient: the whole upstream gradient also where x == 0."""
    x = cache
    return np.asarray(dout) * (x >= 0)


def relu_forward_loops(x):
    x = np.asarray(x)
    out = np.empty_like(x)
    for index, value in enumerate(x.flat):
        out.flat[index] = value if value > 0 else 0
    return out, x


def relu_backward_loops(dout, cache):
    x = cache
    dx = np.zeros(x.shape, np.result_type(x, dout))
    for index, value in enumerate(x.flat):
        if value > 0:
            dx.flat[index] = dout.flat[index]
    return dx
