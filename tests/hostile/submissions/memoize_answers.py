"""Timing trick: memoize answers keyed by a hash of the input bytes: slow (50 ms of
computing) on a miss, instant on a hit.
Expected: each timed trial has fresh random inputs, so every call misses: score 100, both
timed, speedup_vs_reference below 0.2 (an honest 50 ms call: 0.02-0.08).
"""
# ---- honest, fast convolution (as in submissions/examples/fast_strided.py) ----
import numpy as np
from numpy.lib.stride_tricks import as_strided


def _columns(x, HH, WW, stride, pad, H_out, W_out):
    N, C = x.shape[:2]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    sN, sC, sH, sW = x_pad.strides
    windows = as_strided(x_pad, shape=(C, HH, WW, N, H_out, W_out),
                         strides=(sC, sH, sW, sN, stride * sH, stride * sW))
    return np.ascontiguousarray(windows).reshape(C * HH * WW, N * H_out * W_out)


def _forward(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_cols = _columns(x, HH, WW, stride, pad, H_out, W_out)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = np.ascontiguousarray(res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3))
    return out, (x, w, b, conv_param)


def _backward(dout, cache):
    x, w, b, conv_param = cache[:4]
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_cols = _columns(x, HH, WW, stride, pad, H_out, W_out)
    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dout_mat @ x_cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ dout_mat).reshape(C, HH, WW, N, H_out, W_out)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += \
                dcols[:, k, l].transpose(1, 0, 2, 3)
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
# ---- end of the honest part ----

import time

_real_clock = time.perf_counter


def _slow(result):
    # Slow: hundreds of times the reference on the timed size. It computes (a sleep would
    # not count: the grader times CPU work).
    give_up = _real_clock() + 0.05
    while _real_clock() < give_up:
        pass
    return result

import hashlib

_memo = {}


def _key(*arrays):
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def conv_forward_naive(x, w, b, conv_param):
    key = ("f", _key(x, w, b), str(conv_param))
    if key not in _memo:
        _memo[key] = _slow(_forward(x, w, b, conv_param))
    return _memo[key]


def conv_backward_naive(dout, cache):
    key = ("b", _key(dout, *cache[:3]), str(cache[3]))
    if key not in _memo:
        _memo[key] = _slow(_backward(dout, cache))
    return _memo[key]
