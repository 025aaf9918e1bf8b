"""Bug: the backward zeroes the upstream gradient in place and returns it: dx is right, but
the caller's dout is changed (13 of 66 public relu_backward)."""
import numpy as np


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dout[x <= 0] = 0
    dx = dout
    return dx
