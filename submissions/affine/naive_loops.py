"""Correct: explicit loops over the examples (and, in the backward, the weights' rows),
each example flattened with reshape; cache (x, w, b) with x as given."""
import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    D, M = w.shape
    out = np.zeros((N, M))
    for i in range(N):
        row = x[i].reshape(D)
        for j in range(M):
            out[i, j] = np.sum(row * w[:, j]) + b[j]
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    D, M = w.shape
    dx = np.zeros((N, D))
    dw = np.zeros((D, M))
    db = np.zeros(M)
    for i in range(N):
        row = x[i].reshape(D)
        for j in range(M):
            dx[i] += dout[i, j] * w[:, j]
            dw[:, j] += dout[i, j] * row
            db[j] += dout[i, j]
    dx = dx.reshape(x.shape)
    return dx, dw, db
