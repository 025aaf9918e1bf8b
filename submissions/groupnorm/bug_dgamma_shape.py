"""Bug: dgamma and dbeta summed over axes (0, 2, 3) without keepdims, shape (C,) instead of
gamma's (1, C, 1, 1) (the 2019 docstring's shape); everything else right."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N * G, -1)
    mu = xg.mean(axis=1, keepdims=True)
    var = xg.var(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = ((xg - mu) / std).reshape(N, C, H, W)
    out = gamma * xhat + beta
    cache = (xhat, std, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3))
    dbeta = np.sum(dout, axis=(0, 2, 3))
    dxhat = (dout * gamma).reshape(N * G, -1)
    xg = xhat.reshape(N * G, -1)
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xg * (dxhat * xg).mean(axis=1, keepdims=True)) / std
    return dx.reshape(N, C, H, W), dgamma, dbeta
