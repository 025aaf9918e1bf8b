"""Trusted layer-normalization references for the CS231n API (assignment 2, since 2018):

    layernorm_forward(x, gamma, beta, ln_param) -> (out, cache)
    layernorm_backward(dout, cache) -> (dx, dgamma, dbeta)

x (N, D); gamma, beta (D,); ln_param {'eps': 1e-5 by default}. Each SAMPLE (row) is
normalised over its own D features, with the biased variance and the course's eps
placement, x_hat = (x - mean) / sqrt(var + eps); out = gamma * x_hat + beta. dgamma and
dbeta have gamma's shape (D,). Pure numpy; inputs are never modified.

    layernorm_forward / layernorm_backward   whole-array formulas (the simplified
        gradient, dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std).
    layernorm_forward_loops / layernorm_backward_loops   one sample at a time, the
        backward through every node of the computation graph: slow, obviously right,
        and an independent check on the pair above.

The two bugs real students write that give a wrong answer of exactly known form are
computed here (``*_batch_axis``, ``*_eps_outside``) so the pack can name them.
"""

from __future__ import annotations

import numpy as np

DEFAULT_EPS = 1e-5


def _eps(ln_param) -> float:
    return float((ln_param or {}).get("eps", DEFAULT_EPS))


def layernorm_forward(x, gamma, beta, ln_param):
    x = np.asarray(x, dtype=np.float64)
    eps = _eps(ln_param)
    mean = x.mean(axis=1, keepdims=True)
    centred = x - mean
    std = np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + eps)
    x_hat = centred / std
    out = np.asarray(gamma) * x_hat + np.asarray(beta)
    return out, (x_hat, std, np.asarray(gamma))


def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    dout = np.asarray(dout, dtype=np.float64)
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / std
    return dx, dgamma.reshape(gamma.shape), dbeta.reshape(gamma.shape)


def layernorm_forward_loops(x, gamma, beta, ln_param):
    x = np.asarray(x, dtype=np.float64)
    eps = _eps(ln_param)
    out = np.empty_like(x)
    rows = []
    for n in range(x.shape[0]):
        row = x[n]
        mean = row.sum() / row.size
        centred = row - mean
        var = (centred * centred).sum() / row.size
        std = np.sqrt(var + eps)
        x_hat = centred / std
        out[n] = gamma * x_hat + beta
        rows.append((centred, var, std, x_hat))
    return out, (rows, np.asarray(gamma), eps)


def layernorm_backward_loops(dout, cache):
    """Back through each sample's graph: out = gamma*x_hat + beta, x_hat = centred/std,
    std = sqrt(var + eps), var = mean(centred**2), centred = x - mean(x)."""
    rows, gamma, eps = cache
    dout = np.asarray(dout, dtype=np.float64)
    dx = np.empty_like(dout)
    dgamma = np.zeros(gamma.shape)
    dbeta = np.zeros(gamma.shape)
    for n, (centred, var, std, x_hat) in enumerate(rows):
        d = centred.size
        dgamma += dout[n] * x_hat
        dbeta += dout[n]
        dx_hat = dout[n] * gamma
        dcentred = dx_hat / std
        dstd = -(dx_hat * centred).sum() / std ** 2
        dvar = dstd / (2 * np.sqrt(var + eps))
        dcentred = dcentred + dvar * 2 * centred / d
        dx[n] = dcentred - dcentred.sum() / d
    return dx, dgamma, dbeta


def layernorm_forward_batch_axis(x, gamma, beta, ln_param):
    """NOT layer norm: batchnorm copied unchanged, statistics over the batch (axis 0)
    instead of each sample's features."""
    x = np.asarray(x, dtype=np.float64)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + _eps(ln_param))
    return gamma * x_hat + beta


def layernorm_forward_eps_outside(x, gamma, beta, ln_param):
    """NOT the course's layer norm: eps added to the standard deviation, (x - mean) /
    (std + eps), instead of inside the square root."""
    x = np.asarray(x, dtype=np.float64)
    x_hat = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + _eps(ln_param))
    return gamma * x_hat + beta
