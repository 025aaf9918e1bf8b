"""Attack: kill or stop the harness (the parent) and init, stop every process it may signal
(kill -1), and ptrace-attach to the parent.
Expected: all refused (other uid, no privileges), so the module raises
ImportError("blocked: ..."): score 0, and the grading is not disturbed (gradable).
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

import ctypes
import os
import signal

_tried, _leaks = [], []
for _pid, _sig in ((os.getppid(), signal.SIGSTOP), (os.getppid(), signal.SIGKILL), (1, signal.SIGTERM)):
    try:
        os.kill(_pid, _sig)
        _leaks.append(f"kill({_pid}, {_sig.name})")
    except OSError as exc:
        _tried.append(f"kill({_pid}, {_sig.name}): {exc.strerror}")
# kill(-1) reports success whenever some process exists, even if every one refused the
# signal (EPERM), so it proves nothing here; its effect would show as a hung, not
# gradable, grading (the test fails on that).
try:
    os.kill(-1, signal.SIGSTOP)
except OSError as exc:
    _tried.append(f"kill(-1, SIGSTOP): {exc.strerror}")
_libc = ctypes.CDLL(None, use_errno=True)
_PTRACE_ATTACH = 16
if _libc.ptrace(_PTRACE_ATTACH, os.getppid(), None, None) == 0:
    _leaks.append("ptrace attached to the harness")
else:
    _tried.append(f"ptrace: {os.strerror(ctypes.get_errno())}")

if _leaks:
    print("LEAKED:", _leaks)  # falls through to the honest code: a perfect score betrays the escape
else:
    raise ImportError("blocked: " + "; ".join(_tried)[:1500])


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
