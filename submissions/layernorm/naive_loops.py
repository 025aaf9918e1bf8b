"""Correct: one sample at a time, backward node by node through the computation graph
(mean, centring, variance, std, division, scale and shift); cache a dict."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    N, D = x.shape
    out = np.zeros((N, D))
    rows = []
    for n in range(N):
        mu = np.sum(x[n]) / D
        xc = x[n] - mu
        var = np.sum(xc ** 2) / D
        std = np.sqrt(var + eps)
        xhat = xc / std
        out[n] = gamma * xhat + beta
        rows.append((xc, std, xhat))
    cache = {"rows": rows, "gamma": gamma}
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    gamma = cache["gamma"]
    N, D = dout.shape
    dx = np.zeros((N, D))
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    for n, (xc, std, xhat) in enumerate(cache["rows"]):
        dgamma += dout[n] * xhat
        dbeta += dout[n]
        dxhat = dout[n] * gamma
        dxc = dxhat / std
        dstd = -np.sum(dxhat * xc) / std ** 2
        dvar = dstd / (2 * std)
        dxc += 2 * xc * dvar / D
        dx[n] = dxc - np.sum(dxc) / D
    return dx, dgamma, dbeta
