"""Attack: look for any copy of the reference (strided.py) in the project the interpreter
lives in (the Docker build context in build/, say), /opt (the image's app, and a decoy copy the test plants), and import it.
Expected: none is visible, so the import fails ("blocked: no copy of the reference"):
score 0. Finding one would score 100.
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

import importlib.util
import os
import sys

_project = os.path.dirname(os.path.dirname(os.path.dirname(sys.executable)))
_found = []
for _top in (_project, "/opt"):
    for _folder, _dirs, _files in os.walk(_top):
        _dirs[:] = [d for d in _dirs if d not in (".venv", "node_modules", "__pycache__")]
        if _folder.count(os.sep) - _top.count(os.sep) > 5:
            _dirs[:] = []
        if "strided.py" in _files:
            _found.append(os.path.join(_folder, "strided.py"))
_stolen = None
for _path in _found:
    _package = os.path.dirname(_path)
    try:
        if os.path.isfile(os.path.join(_package, "__init__.py")):  # import it as its package, relative imports work
            sys.path.insert(0, os.path.dirname(_package))
            for _name in [m for m in sys.modules if m.split(".")[0] == os.path.basename(_package)]:
                del sys.modules[_name]
            _stolen = importlib.import_module(os.path.basename(_package) + ".strided")
        else:
            _spec = importlib.util.spec_from_file_location("stolen_reference", _path)
            _stolen = importlib.util.module_from_spec(_spec)
            _spec.loader.exec_module(_stolen)
        _stolen.conv_forward, _stolen.conv_backward
        print("LEAKED: imported", _path)
        break
    except Exception:
        _stolen = None
if _stolen is None:
    raise ImportError(f"blocked: no copy of the reference (walked {_project}, /opt; listed {_found})")


def conv_forward_naive(x, w, b, conv_param):
    return _stolen.conv_forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _stolen.conv_backward(dout, cache)
