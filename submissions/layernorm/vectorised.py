"""Correct: the transpose trick the template hints at (batchnorm's code on x.T, so the
statistics run over each sample's features), and the simplified backward."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    xt = x.T  # (D, N): batchnorm's axis 0 is now the features
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    std = np.sqrt(var + eps)
    xhat = ((xt - mu) / std).T
    out = gamma * xhat + beta
    cache = (xhat, std, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, std, gamma = cache
    D = dout.shape[1]
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1, keepdims=True)
          - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * std[:, None])
    return dx, dgamma, dbeta
