"""Bug: eps added to the standard deviation, (x - mu) / (std + eps); off by about
eps / (2 var) relative, which only cases of small variance show plainly."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=2, keepdims=True)
    std = xg.std(axis=2, keepdims=True)
    xhat = ((xg - mu) / (std + eps)).reshape(N, C, H, W)
    out = gamma * xhat + beta
    cache = (xg - mu, std, eps, xhat, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xc, std, eps, xhat, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, -1)
    m = xc.shape[2]
    dstd = -np.sum(dxhat * xc, axis=2, keepdims=True) / (std + eps) ** 2
    dxc = dxhat / (std + eps) + dstd * xc / (m * std)
    dx = dxc - dxc.mean(axis=2, keepdims=True)
    return dx.reshape(N, C, H, W), dgamma, dbeta
