"""Trusted spatial group-normalization references for the CS231n API (assignment 2,
since 2019):

    spatial_groupnorm_forward(x, gamma, beta, G, gn_param) -> (out, cache)
    spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)

x (N, C, H, W); gamma, beta (1, C, 1, 1); G divides C; gn_param {'eps': 1e-5 by
default}. Group g of sample n is the C/G CONSECUTIVE channels g*C/G .. (g+1)*C/G - 1
(the notebook checks with x.reshape(N*G, -1)); its C/G*H*W values are normalised
together with the biased variance, x_hat = (x - mean) / sqrt(var + eps), then scaled
and shifted per channel. dgamma and dbeta have gamma's shape (1, C, 1, 1). Pure numpy;
inputs are never modified.

    spatial_groupnorm_forward / spatial_groupnorm_backward   a (N, G, C/G*H*W) view and
        the simplified gradient.
    spatial_groupnorm_forward_loops / spatial_groupnorm_backward_loops   one (sample,
        group) at a time, the backward through every node of the graph: slow, obviously
        right, and an independent check on the pair above.

The bugs that give a wrong answer of exactly known form are computed here
(``*_interleaved``, ``*_eps_outside``) so the pack can name them.
"""

from __future__ import annotations

import numpy as np

DEFAULT_EPS = 1e-5


def _eps(gn_param) -> float:
    return float((gn_param or {}).get("eps", DEFAULT_EPS))


def _check(x_shape, G) -> tuple[int, int, int, int]:
    n, c, h, w = x_shape
    if G < 1 or c % G:
        raise ValueError(f"G = {G} does not divide C = {c}")
    return n, c, h, w


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = _check(x.shape, G)
    grouped = x.reshape(n, G, -1)
    centred = grouped - grouped.mean(axis=2, keepdims=True)
    std = np.sqrt((centred ** 2).mean(axis=2, keepdims=True) + _eps(gn_param))
    x_hat = (centred / std).reshape(x.shape)
    out = np.asarray(gamma) * x_hat + np.asarray(beta)
    return out, (x_hat, std, np.asarray(gamma), G)


def spatial_groupnorm_backward(dout, cache):
    x_hat, std, gamma, G = cache
    dout = np.asarray(dout, dtype=np.float64)
    n = dout.shape[0]
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(n, G, -1)
    x_hat_g = x_hat.reshape(n, G, -1)
    dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
          - x_hat_g * (dx_hat * x_hat_g).mean(axis=2, keepdims=True)) / std
    return dx.reshape(dout.shape), dgamma, dbeta


def spatial_groupnorm_forward_loops(x, gamma, beta, G, gn_param):
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = _check(x.shape, G)
    eps, per = _eps(gn_param), c // G
    x_hat = np.empty_like(x)
    stats = {}
    for i in range(n):
        for g in range(G):
            block = x[i, g * per:(g + 1) * per]
            mean = block.sum() / block.size
            centred = block - mean
            var = (centred * centred).sum() / block.size
            x_hat[i, g * per:(g + 1) * per] = centred / np.sqrt(var + eps)
            stats[i, g] = (centred, var)
    out = np.empty_like(x)
    for ch in range(c):
        out[:, ch] = gamma[0, ch, 0, 0] * x_hat[:, ch] + beta[0, ch, 0, 0]
    return out, (x_hat, stats, np.asarray(gamma), G, eps)


def spatial_groupnorm_backward_loops(dout, cache):
    """Back through each group's graph: out = gamma*x_hat + beta per channel, x_hat =
    centred/sqrt(var + eps), var = mean(centred**2), centred = x - mean(x)."""
    x_hat, stats, gamma, G, eps = cache
    dout = np.asarray(dout, dtype=np.float64)
    n, c = dout.shape[:2]
    per = c // G
    dgamma = np.zeros(gamma.shape)
    dbeta = np.zeros(gamma.shape)
    for ch in range(c):
        dgamma[0, ch, 0, 0] = (dout[:, ch] * x_hat[:, ch]).sum()
        dbeta[0, ch, 0, 0] = dout[:, ch].sum()
    dx = np.empty_like(dout)
    for (i, g), (centred, var) in stats.items():
        channels = slice(g * per, (g + 1) * per)
        dx_hat = dout[i, channels] * gamma[0, channels]
        std = np.sqrt(var + eps)
        dstd = -(dx_hat * centred).sum() / std ** 2
        dvar = dstd / (2 * std)
        dcentred = dx_hat / std + dvar * 2 * centred / centred.size
        dx[i, channels] = dcentred - dcentred.sum() / centred.size
    return dx, dgamma, dbeta


def spatial_groupnorm_forward_interleaved(x, gamma, beta, G, gn_param):
    """NOT group norm: x.reshape(N, C//G, G, H, W) normalised over axes (1, 3, 4), so a
    group holds every G-th channel (c % G) instead of C/G consecutive ones."""
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = _check(x.shape, G)
    grouped = x.reshape(n, c // G, G, h, w)
    x_hat = (grouped - grouped.mean(axis=(1, 3, 4), keepdims=True)) / np.sqrt(
        grouped.var(axis=(1, 3, 4), keepdims=True) + _eps(gn_param))
    return gamma * x_hat.reshape(x.shape) + beta


def spatial_groupnorm_forward_eps_outside(x, gamma, beta, G, gn_param):
    """NOT the course's group norm: eps added to the standard deviation."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    grouped = x.reshape(n, G, -1)
    x_hat = (grouped - grouped.mean(axis=2, keepdims=True)) / (grouped.std(axis=2, keepdims=True) + _eps(gn_param))
    return gamma * x_hat.reshape(x.shape) + beta
