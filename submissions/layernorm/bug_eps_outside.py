"""Bug: eps added to the standard deviation, (x - mu) / (std + eps), instead of inside the
square root; the backward is consistent with that forward."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    xhat = (x - mu) / (std + eps)
    out = gamma * xhat + beta
    cache = (x, mu, std, xhat, gamma, eps)
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    x, mu, std, xhat, gamma, eps = cache
    D = x.shape[1]
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    xc = x - mu
    dstd = -np.sum(dxhat * xc, axis=1, keepdims=True) / (std + eps) ** 2
    dxc = dxhat / (std + eps) + dstd * xc / (D * std)
    dx = dxc - dxc.mean(axis=1, keepdims=True)
    return dx, dgamma, dbeta
