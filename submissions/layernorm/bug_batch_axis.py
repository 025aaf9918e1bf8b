"""Bug: batchnorm copied unchanged, mean and variance over the batch (axis 0) instead of
each sample's features (right in shape everywhere; the backward matches its forward)."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    mu = np.mean(x, axis=0)
    var = np.var(x, axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    cache = (x, xhat, mu, var, gamma, eps)
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    x, xhat, mu, var, gamma, eps = cache
    N = x.shape[0]
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / (N * np.sqrt(var + eps))
    return dx, dgamma, dbeta
