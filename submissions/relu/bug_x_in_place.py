"""Bug: the forward zeroes the negative entries of x in place and returns x itself: out is
right, but the caller's x is changed."""
import numpy as np


def relu_forward(x):
    x[x < 0] = 0
    out = x
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout * (x > 0)
    return dx
