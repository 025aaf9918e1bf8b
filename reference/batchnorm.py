"""Trusted batch-normalization references for the CS231n API:

    batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)
    batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
    batchnorm_backward_alt(dout, cache) -> (dx, dgamma, dbeta)

x (N, D), gamma and beta (D,). bn_param holds 'mode' ('train' or 'test') and optionally
'eps' (1e-5), 'momentum' (0.9), 'running_mean' and 'running_var' (zeros of shape (D,)
when absent). Train mode normalises with the batch mean and the biased variance
(np.var's default, ddof=0) and stores

    running_mean = momentum * running_mean + (1 - momentum) * batch mean
    running_var  = momentum * running_var  + (1 - momentum) * batch variance

back into bn_param (the only entries it writes); test mode normalises with the running
statistics. x, gamma, beta and the arrays in bn_param are never modified: the updated
statistics are new arrays.

    batchnorm_backward       the computational graph, node by node: slow to read,
                             obviously right; the yardstick the notebook's speed cell
                             races the alt version against.
    batchnorm_backward_alt   the simplified closed form, one pass over dout.

    spatial_batchnorm_forward / spatial_batchnorm_backward   x (N, C, H, W), gamma and
                             beta (C,): the plain ones over the (N*H*W, C) rows of x with
                             its channel axis moved last.

The ``*_bug`` functions are real students' bugs (issue 26's list): the pack uses them to
say which bug a wrong answer is, and the tests to check that its cases catch each.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-5
MOMENTUM = 0.9


def _statistics(bn_param: dict, d: int, dtype) -> tuple[float, float, np.ndarray, np.ndarray]:
    eps = bn_param.get("eps", EPS)
    momentum = bn_param.get("momentum", MOMENTUM)
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=dtype))
    running_var = bn_param.get("running_var", np.zeros(d, dtype=dtype))
    return eps, momentum, running_mean, running_var


def batchnorm_forward(x, gamma, beta, bn_param, *, variance_ddof=0, stored_eps=False, swapped_momentum=False,
                      write_back=True):
    """The forward pass. The keyword arguments make the known bugs (``batchnorm_forward_bug``);
    their defaults are the right answer."""
    mode = bn_param["mode"]
    eps, momentum, running_mean, running_var = _statistics(bn_param, x.shape[1], x.dtype)
    if mode == "train":
        mean = x.mean(axis=0)
        centered = x - mean
        var = (centered**2).sum(axis=0) / (x.shape[0] - variance_ddof)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = centered * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, inv_std)
        old, new = (1 - momentum, momentum) if swapped_momentum else (momentum, 1 - momentum)
        running_mean = old * running_mean + new * mean
        running_var = old * running_var + new * (var + eps if stored_eps else var)
    elif mode == "test":
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
        cache = None
    else:
        raise ValueError(f"invalid forward batchnorm mode {mode!r}")
    if write_back:
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward through the graph, node by node (x -> mean -> centered -> var -> inv_std ->
    x_hat -> out), as the notebook's first backward is written."""
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    centered = x_hat / inv_std
    dinv_std = (dx_hat * centered).sum(axis=0)
    dvar = dinv_std * -0.5 * inv_std**3  # inv_std = (var + eps) ** -0.5
    dcentered = dx_hat * inv_std + dvar * 2.0 * centered / n  # var = sum(centered**2) / n
    dmean = -dcentered.sum(axis=0)
    dx = dcentered + dmean / n
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """The closed form: dx = gamma * inv_std / N * (N dout - sum(dout) - x_hat * sum(dout * x_hat))."""
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


# The known bugs, by the name the pack's notes and the tests use.
BUGS = {
    "stored_eps": {"stored_eps": True},  # running_var stores var + eps
    "unbiased_variance": {"variance_ddof": 1},  # np.var(x, axis=0, ddof=1) or x.std(ddof=1)**2
    "swapped_momentum": {"swapped_momentum": True},  # (1 - momentum) * running + momentum * batch
    "not_written_back": {"write_back": False},  # running statistics computed, never stored in bn_param
}


def batchnorm_forward_bug(bug: str, x, gamma, beta, bn_param):
    """The forward as a student with ``bug`` (a BUGS key) writes it."""
    return batchnorm_forward(x, gamma, beta, bn_param, **BUGS[bug])


# Spatial batch normalization: x (N, C, H, W), gamma and beta (C,), statistics per channel
# over N, H and W. The channel axis goes last before the (N*H*W, C) view and comes back
# after: the order real students get wrong.
def _to_rows(x):
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(-1, c)


def _from_rows(rows, shape):
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param, **bug):
    """``bug``: a BUGS entry's keywords, passed to the plain forward (default: right)."""
    out, cache = batchnorm_forward(_to_rows(x), gamma, beta, bn_param, **bug)
    return _from_rows(out, x.shape), cache


def spatial_batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward_alt(_to_rows(dout), cache)
    return _from_rows(dx, dout.shape), dgamma, dbeta


# The layout bugs: channels and pixels mixed up on the way in, or on the way back out.
SPATIAL_BUGS = {
    "reshape_without_transpose": "in",  # x.reshape(-1, C): each row mixes channels
    "transpose_back_missing": "out",  # the rows put back by out.reshape(N, C, H, W)
}


def spatial_batchnorm_forward_bug(bug: str, x, gamma, beta, bn_param):
    """The spatial forward as a student with ``bug`` (a BUGS or SPATIAL_BUGS key) writes it."""
    if bug in BUGS:
        return spatial_batchnorm_forward(x, gamma, beta, bn_param, **BUGS[bug])
    n, c, h, w = x.shape
    rows = x.reshape(-1, c) if SPATIAL_BUGS[bug] == "in" else _to_rows(x)
    out, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(n, c, h, w), cache
