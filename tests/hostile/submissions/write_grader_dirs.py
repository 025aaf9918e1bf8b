"""Attack: write into the grader's and the host's folders: the harness source, the reference,
the project root, the interpreter's site-packages (a sitecustomize.py would run in the
harness), /tmp, /var/tmp, /dev/shm, /run/lock, /root, /opt, /etc; and overwrite the worker's
own protocol.py in scratch.
Expected: every write fails (hidden, read-only or not ours), so the module raises
ImportError("blocked: ..."): score 0. Any success makes it honest (score 100, "LEAKED"); the
test also checks no hostile-canary-* file appeared.
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

import os
import site
import sys

_project = os.path.dirname(os.path.dirname(os.path.dirname(sys.executable)))
_folders = [os.path.join(_project, p) for p in ("", "grader", "grader/harness", "reference", "tests")]
_folders += site.getsitepackages() + ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/root", "/opt", "/etc",
                                      "/opt/convgrade-hostile-others"]
_tried, _leaks = [], []
_scratch = os.stat(".").st_dev  # the working folder is in the run's scratch
for _folder in _folders:
    _path = os.path.join(_folder, "hostile-canary-write.py")
    try:
        if os.stat(_folder).st_dev == _scratch:
            _tried.append(f"{_folder}: part of the scratch (a container's own /tmp, say)")
            continue
    except OSError:
        pass
    try:
        with open(_path, "w") as _f:
            _f.write("raise SystemExit('hostile canary')\n")
        _leaks.append(_path)
    except OSError as exc:
        _tried.append(f"{_path}: {exc.strerror}")
_protocol = os.path.join(os.path.dirname(sys.modules["__main__"].__file__), "protocol.py")
try:
    with open(_protocol, "a") as _f:
        _f.write("\n")
    _leaks.append(_protocol)
except OSError as exc:
    _tried.append(f"{_protocol}: {exc.strerror}")

if _leaks:
    print("LEAKED:", _leaks)  # falls through to the honest code: a perfect score betrays the escape
else:
    raise ImportError("blocked: " + "; ".join(_tried)[:1500])


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
