"""Correct: reshape to (N, G, C//G, H, W), statistics over the last three axes, the
simplified backward, dgamma and dbeta kept (1, C, 1, 1)."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = xg.var(axis=(2, 3, 4), keepdims=True)
    std = np.sqrt(var + eps)
    xhat = ((xg - mu) / std).reshape(N, C, H, W)
    out = gamma * xhat + beta
    cache = (xhat, std, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, C // G, H, W)
    xg = xhat.reshape(N, G, C // G, H, W)
    dx = (dxhat - dxhat.mean(axis=(2, 3, 4), keepdims=True)
          - xg * (dxhat * xg).mean(axis=(2, 3, 4), keepdims=True)) / std
    return dx.reshape(N, C, H, W), dgamma, dbeta
