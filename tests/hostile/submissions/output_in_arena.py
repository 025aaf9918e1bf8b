"""Timing trick: build the outputs inside the shared arena (issue 15, item 9). The inputs are
views of a shared memory region (x.base is the whole mapping) whose response part, right
after the request part, is where the worker used to copy outputs; an output computed in
place there made that copy a no-op the reference still paid (forward figure 1.17-1.22
against 0.98-1.05 for its honest twin). The same convolution as output_in_arena_twin.py,
but every output is written straight into the response region.
Expected: the harness reads every output from the worker's own memory and the worker
copies nothing, so there is no copy to skip: score 100, and the speedup is no better than
the twin's (see test_timing_tricks_do_not_pay).
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

import json
import sys

_config = json.loads(sys.argv[1])  # the worker's config is on its command line
_RESPONSE = _config["request_bytes"]


def _in_arena(base, shape, offset):
    """A float64 array of ``shape`` at ``offset`` bytes into the response region."""
    return np.ndarray(shape, dtype=np.float64, buffer=base, offset=_RESPONSE + offset)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_cols = _columns(x, HH, WW, stride, pad, H_out, W_out)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = _in_arena(x.base, (N, F, H_out, W_out), 0)
    out[...] = res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)  # the copy, done once, in place
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    dx, dw, db = _backward(dout, cache)
    base = dout.base
    arena_dx = _in_arena(base, dx.shape, 0)
    arena_dx[...] = dx
    arena_dw = _in_arena(base, dw.shape, (dx.nbytes + 63) // 64 * 64)
    arena_dw[...] = dw
    return arena_dx, arena_dw, db
