"""Correct: one channel at a time, statistics over N, H and W directly."""
import numpy as np


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))
    out, cache = np.zeros_like(x), None
    if mode == "train":
        mean, var = np.zeros(C), np.zeros(C)
        for c in range(C):
            mean[c] = x[:, c].mean()
            var[c] = ((x[:, c] - mean[c]) ** 2).mean()
            out[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
        cache = (x, gamma, mean, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        for c in range(C):
            out[:, c] = gamma[c] * (x[:, c] - running_mean[c]) / np.sqrt(running_var[c] + eps) + beta[c]
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    x, gamma, mean, var, eps = cache
    N, C, H, W = x.shape
    m = N * H * W
    dx, dgamma, dbeta = np.zeros_like(x), np.zeros(C), np.zeros(C)
    for c in range(C):
        inv_std = 1.0 / np.sqrt(var[c] + eps)
        x_hat = (x[:, c] - mean[c]) * inv_std
        dbeta[c] = dout[:, c].sum()
        dgamma[c] = (dout[:, c] * x_hat).sum()
        dx[:, c] = gamma[c] * inv_std / m * (m * dout[:, c] - dbeta[c] - x_hat * dgamma[c])
    return dx, dgamma, dbeta
