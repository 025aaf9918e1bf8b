"""Trusted inverted-dropout reference for the CS231n API (2018 and later):

    dropout_forward(x, dropout_param) -> (out, cache)
    dropout_backward(dout, cache) -> dx

dropout_param {'mode': 'train' | 'test', 'p': keep probability, 'seed': optional}.
Train mode keeps each unit with probability p and divides the kept ones by p, so the
expected output equals x and test mode returns x unchanged; with 'seed', the mask is
drawn after np.random.seed(seed), as the course's template does. x of any shape; pure
numpy; inputs are never modified.

The pack grades dropout by property (a student's mask is as right as this one), so
these functions are the yardstick for timing and the subject of the numerical-gradient
test, never an expected answer.
"""

from __future__ import annotations

import numpy as np


def dropout_forward(x: np.ndarray, dropout_param: dict):
    p, mode = float(dropout_param["p"]), dropout_param["mode"]
    if not 0.0 < p <= 1.0:
        raise ValueError(f"dropout_param['p'] is the keep probability, in (0, 1]; got {p}")
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p  # the kept units, already scaled
        out = x * mask
    elif mode == "test":
        mask, out = None, x.copy()  # a copy: the caller may write into out
    else:
        raise ValueError(f"dropout_param['mode'] must be 'train' or 'test', not {mode!r}")
    return out, (dropout_param, mask)


def dropout_backward(dout: np.ndarray, cache) -> np.ndarray:
    """dout through the forward's scaled mask (train), or unchanged (test)."""
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout.copy()
