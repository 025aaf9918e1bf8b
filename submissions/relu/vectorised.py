"""Correct: np.maximum forward and a mask backward that passes the gradient where x >= 0
(at x == 0 exactly, the other valid subgradient from the loop solution's x > 0)."""
import numpy as np


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout * (x >= 0)
    return dx
