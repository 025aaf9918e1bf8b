"""Correct: the forward and the graph backward feature by feature in loops, as a first
attempt often is; the alt backward staged through the same graph in fewer steps."""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = np.zeros_like(x), None
    if mode == "train":
        mean, var = np.zeros(D), np.zeros(D)
        for j in range(D):
            mean[j] = sum(x[i, j] for i in range(N)) / N
            var[j] = sum((x[i, j] - mean[j]) ** 2 for i in range(N)) / N
            for i in range(N):
                out[i, j] = gamma[j] * (x[i, j] - mean[j]) / np.sqrt(var[j] + eps) + beta[j]
        cache = (x, gamma, mean, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        for j in range(D):
            out[:, j] = gamma[j] * (x[:, j] - running_mean[j]) / np.sqrt(running_var[j] + eps) + beta[j]
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    x, gamma, mean, var, eps = cache
    N, D = x.shape
    dx, dgamma, dbeta = np.zeros_like(x), np.zeros(D), np.zeros(D)
    for j in range(D):
        xmu = x[:, j] - mean[j]
        ivar = 1.0 / np.sqrt(var[j] + eps)
        xhat = xmu * ivar
        dbeta[j] = np.sum(dout[:, j])
        dgamma[j] = np.sum(dout[:, j] * xhat)
        dxhat = dout[:, j] * gamma[j]
        divar = np.sum(dxhat * xmu)
        dxmu1 = dxhat * ivar
        dsqrtvar = -1.0 / (var[j] + eps) * divar
        dvar = 0.5 * ivar * dsqrtvar
        dsq = np.ones(N) / N * dvar
        dxmu2 = 2 * xmu * dsq
        dx1 = dxmu1 + dxmu2
        dmu = -np.sum(dx1)
        dx[:, j] = dx1 + np.ones(N) / N * dmu
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    x, gamma, mean, var, eps = cache
    N = x.shape[0]
    ivar = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * ivar
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = ivar / N * (N * dxhat - np.sum(dxhat, axis=0) - xhat * np.sum(dxhat * xhat, axis=0))
    return dx, dgamma, dbeta
