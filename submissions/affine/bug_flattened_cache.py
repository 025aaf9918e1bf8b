"""Bug: the forward reassigns x to its flattened self, so the template's cache = (x, w, b)
holds the (N, D) x, and the backward's dx.reshape(x.shape) stays flat: dx is (N, D)
instead of x's shape whenever x has more than two dimensions."""
import numpy as np


def affine_forward(x, w, b):
    x = x.reshape(x.shape[0], -1)
    out = x.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db
