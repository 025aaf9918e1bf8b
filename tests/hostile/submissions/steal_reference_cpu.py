"""Timing trick: slow the yardstick down. A SIGALRM timer (0.5 ms) runs a handler whenever the
worker idles waiting for its next request; the handler burns the shared core until a
request arrives, i.e. while the reference is being timed. The code itself does the work
twice (about half the reference's speed) so a win shows clearly.
Expected: the harness holds the student worker stopped (SIGSTOP) while it times the
reference: score 100, and the speedup is no better than that of the same code without the
trick (steal_reference_cpu_twin.py; see test_stealing_cpu_from_the_reference_does_not_pay).
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
import select
import signal
import sys
import time

_busy = [False]
_request_fd = json.loads(sys.argv[1])["request_fd"]  # the worker's config is on its command line


def _burn(signum, frame):
    if _busy[0] or frame is None or frame.f_code.co_name != "read_exact":
        return  # only while the worker idles, waiting for the next request
    _busy[0] = True
    # Keep the shared core busy (whatever runs now, the reference, runs slower) until our
    # own request arrives; at most 2 ms at a time, as the timer fires again anyway (and
    # this frame test cannot tell "blocked in read" from "just read the request").
    give_up = time.perf_counter() + 0.002
    while time.perf_counter() < give_up and not select.select([_request_fd], [], [], 0)[0]:
        pass
    _busy[0] = False


signal.signal(signal.SIGALRM, _burn)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)


def conv_forward_naive(x, w, b, conv_param):
    _busy[0] = True
    try:
        _forward(x, w, b, conv_param)
        return _forward(x, w, b, conv_param)
    finally:
        _busy[0] = False


def conv_backward_naive(dout, cache):
    _busy[0] = True
    try:
        _backward(dout, cache)
        return _backward(dout, cache)
    finally:
        _busy[0] = False
