"""Plays the timing plan: an honest, fast convolution whose first call at the timed size in
each worker process spins for 0.6 s (less than own_warm_up_s, so it stays a warm-up). A
warm-up call pair that long makes the pair time runs of one trial, and the student's runs
start without an untimed call pair of their own. Before the reference started each of its
runs with one, that made every reference call follow the student's and start cold (the
reference's forward about 1.4x its warm time at the speed cell), and the student's figure
rose by as much.
Expected: score 100, both functions timed, and the speedup is no better than that of the
same code without the spin (honest_control.py, see test_timing_tricks_do_not_pay): the
reference is timed warm whatever the student's warm-up costs.
"""
import time

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

_spun = False


def _spin_once(x):
    global _spun
    if not _spun and x.shape == (100, 3, 31, 31):  # the speed cell: the timing phase's warm-up
        _spun = True
        end = time.process_time() + 0.6  # CPU time: a busy machine cannot shorten the spin
        while time.process_time() < end:
            pass


def conv_forward_naive(x, w, b, conv_param):
    _spin_once(x)
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
