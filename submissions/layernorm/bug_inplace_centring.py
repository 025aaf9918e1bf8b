"""Bug: centres x in place (x -= mu), so the caller's x changes; every answer is right,
only the inputs check fails."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    x -= x.mean(axis=1, keepdims=True)
    std = np.sqrt((x ** 2).mean(axis=1, keepdims=True) + eps)
    xhat = x / std
    out = gamma * xhat + beta
    cache = (xhat, std, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, std, gamma = cache
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / std
    return dx, dgamma, dbeta
