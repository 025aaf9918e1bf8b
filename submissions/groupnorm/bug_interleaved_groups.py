"""Bug: x.reshape(N, C // G, G, H, W) with statistics over axes (1, 3, 4): a group is every
G-th channel instead of C/G consecutive ones (right when G is 1 or C). The backward is
consistent with that forward."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)
    mu = xg.mean(axis=(1, 3, 4), keepdims=True)
    var = xg.var(axis=(1, 3, 4), keepdims=True)
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
    dxhat = (dout * gamma).reshape(N, C // G, G, H, W)
    xg = xhat.reshape(N, C // G, G, H, W)
    dx = (dxhat - dxhat.mean(axis=(1, 3, 4), keepdims=True)
          - xg * (dxhat * xg).mean(axis=(1, 3, 4), keepdims=True)) / std
    return dx.reshape(N, C, H, W), dgamma, dbeta
