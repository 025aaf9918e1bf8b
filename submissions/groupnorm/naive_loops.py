"""Correct: one (sample, group) at a time, backward node by node through each group's
graph; gamma and beta used per channel in a loop; cache a dict."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    size = C // G
    xhat = np.zeros(x.shape)
    stats = {}
    for n in range(N):
        for g in range(G):
            block = x[n, g * size:(g + 1) * size]
            mu = np.sum(block) / block.size
            xc = block - mu
            var = np.sum(xc ** 2) / block.size
            std = np.sqrt(var + eps)
            xhat[n, g * size:(g + 1) * size] = xc / std
            stats[n, g] = (xc, std)
    out = np.zeros(x.shape)
    for c in range(C):
        out[:, c] = gamma[0, c, 0, 0] * xhat[:, c] + beta[0, c, 0, 0]
    cache = {"xhat": xhat, "stats": stats, "gamma": gamma, "G": G}
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, stats, gamma, G = cache["xhat"], cache["stats"], cache["gamma"], cache["G"]
    N, C, H, W = dout.shape
    size = C // G
    dgamma = np.zeros((1, C, 1, 1))
    dbeta = np.zeros((1, C, 1, 1))
    for c in range(C):
        dgamma[0, c, 0, 0] = np.sum(dout[:, c] * xhat[:, c])
        dbeta[0, c, 0, 0] = np.sum(dout[:, c])
    dx = np.zeros(dout.shape)
    for (n, g), (xc, std) in stats.items():
        ch = slice(g * size, (g + 1) * size)
        dxhat = dout[n, ch] * gamma[0, ch]
        m = xc.size
        dxc = dxhat / std
        dstd = -np.sum(dxhat * xc) / std ** 2
        dvar = dstd / (2 * std)
        dxc += 2 * xc * dvar / m
        dx[n, ch] = dxc - np.sum(dxc) / m
    return dx, dgamma, dbeta
