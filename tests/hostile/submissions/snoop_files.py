"""Attack: read the grader's files: the reference, the harness's hidden-case generator, the
tests, the repository's .git, the build context, root's home, /etc/shadow, the harness's
environment, and the reference worker's folder in scratch.
Expected: all of them are hidden or unreadable, so the module raises
ImportError("blocked: ..."): score 0. Reading any makes it honest (score 100, "LEAKED").
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
import sys

_project = os.path.dirname(os.path.dirname(os.path.dirname(sys.executable)))  # <project>/.venv/bin/python
_targets = [os.path.join(_project, p) for p in (
    "reference/strided.py", "grader/harness/assignments/cs231n_conv.py", "grader/harness/run.py", "tests/hostile/test_hostile.py",
    ".git/config", "build/docker-context/reference/strided.py", "submissions/examples/fast_strided.py")]
_targets += ["/opt/convgrade-hostile-others/reference/strided.py", "/opt/convgrade/app/reference/strided.py", "/root/.bash_history",
             "/etc/shadow", f"/proc/{os.getppid()}/environ", "/proc/1/environ", f"/proc/{os.getppid()}/fd/0",
             os.path.join(os.getcwd(), "..", "reference", "code", "reference", "strided.py")]
_tried, _leaks = [], []
for _path in _targets:
    try:
        with open(_path, "rb") as _f:
            if _f.read(64):
                _leaks.append(_path)
            else:
                _tried.append(f"{_path}: empty")
    except OSError as exc:
        _tried.append(f"{_path}: {exc.strerror}")

if _leaks:
    print("LEAKED:", _leaks)  # falls through to the honest code: a perfect score betrays the escape
else:
    raise ImportError("blocked: " + "; ".join(_tried)[:1500])


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
