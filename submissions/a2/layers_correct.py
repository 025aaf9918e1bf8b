"""A whole layers.py, every layer right, with loops where the packs' own examples have them
(submissions/<layer>/naive_loops.py or loops.py): the template's convolution and max-pooling loops,
batchnorm feature by feature, spatial batchnorm channel by channel; dropout as the course writes it."""
import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    D, M = w.shape
    out = np.zeros((N, M))
    for i in range(N):
        row = x[i].reshape(D)
        for j in range(M):
            out[i, j] = np.sum(row * w[:, j]) + b[j]
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    D, M = w.shape
    dx = np.zeros((N, D))
    dw = np.zeros((D, M))
    db = np.zeros(M)
    for i in range(N):
        row = x[i].reshape(D)
        for j in range(M):
            dx[i] += dout[i, j] * w[:, j]
            dw[:, j] += dout[i, j] * row
            db[j] += dout[i, j]
    dx = dx.reshape(x.shape)
    return dx, dw, db


def relu_forward(x):
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        if x[index] > 0:
            out[index] = x[index]
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = np.zeros_like(dout)
    for index in np.ndindex(x.shape):
        if x[index] > 0:
            dx[index] = dout[index]
    return dx


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


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    dx = None
    if mode == "train":
        dx = dout * mask
    elif mode == "test":
        dx = dout
    return dx


def conv_forward_naive(x, w, b, conv_param):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    out[n, f, i, j] = np.sum(x_pad[n, :, hs:hs + HH, ws:ws + WW] * w[f]) + b[f]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    dw[f] += x_pad[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dx


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


def svm_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = float(x[i, j] - x[i, y[i]] + 1)
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    loss /= N
    dx /= N
    return loss, dx


def softmax_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        scores = x[i] - np.max(x[i])
        total = 0.0
        for j in range(C):
            total += np.exp(scores[j])
        loss += np.log(total) - scores[y[i]]
        for j in range(C):
            dx[i, j] = np.exp(scores[j]) / total
        dx[i, y[i]] -= 1
    return loss / N, dx / N
