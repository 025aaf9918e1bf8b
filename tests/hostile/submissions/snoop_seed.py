"""Attack: find the hidden cases' seed without it being on disk: every readable
/proc/*/cmdline and /proc/*/environ (the test runs a decoy process with "--seed <seed>" on
its command line, as `convgrade grade --seed N` would), /proc/<ppid>/environ, cmdline and mem.
Expected: the student sees only its own process (a private /proc with hidepid) and cannot
read the harness's memory, so the module raises ImportError("blocked: ..."): score 0. Finding
the seed makes it honest (score 100, "LEAKED").
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

import glob
import os

SEED = "7316485529"  # the seed the test grades with

_tried, _leaks = [], []
_pids = sorted({os.path.basename(p) for p in glob.glob("/proc/[0-9]*")} | {str(os.getppid()), "1"})
for _pid in _pids:
    for _what in ("cmdline", "environ"):
        try:
            with open(f"/proc/{_pid}/{_what}", "rb") as _f:
                if SEED.encode() in _f.read():
                    _leaks.append(f"seed in /proc/{_pid}/{_what}")
        except OSError as exc:
            _tried.append(f"{_pid}/{_what}: {exc.strerror}")
try:
    with open(f"/proc/{os.getppid()}/mem", "rb") as _f:
        _f.seek(0x400000)
        _leaks.append(f"read the harness's memory: {len(_f.read(4096))} bytes")
except (OSError, ValueError) as exc:
    _tried.append(f"ppid mem: {exc}")
_tried.insert(0, f"saw {len(_pids)} processes")

if _leaks:
    print("LEAKED:", _leaks)  # falls through to the honest code: a perfect score betrays the escape
else:
    raise ImportError("blocked: " + "; ".join(_tried)[:1500])


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
