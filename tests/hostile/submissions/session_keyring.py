"""Attack: read a key from the session keyring inherited from whoever started the grader
(the test plants "convgrade-hostile-secret" in its own), and leave a key in the uid's
user keyring for the next student graded under the same uid.
Expected: a fresh session keyring and keyctl/add_key/request_key refused (seccomp;
Docker's profile refuses them too): ImportError("blocked: ..."), score 0.
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

_libc = ctypes.CDLL(None, use_errno=True)
_KEYCTL, _ADD_KEY, _REQUEST_KEY = 250, 248, 249  # x86-64
_KEY_SPEC_SESSION, _KEY_SPEC_USER = -3, -4
_KEYCTL_SEARCH, _KEYCTL_READ = 10, 11
_found = _libc.syscall(_KEYCTL, _KEYCTL_SEARCH, _KEY_SPEC_SESSION, b"user", b"convgrade-hostile-secret", 0)
if _found > 0:
    _buffer = ctypes.create_string_buffer(256)
    _size = _libc.syscall(_KEYCTL, _KEYCTL_READ, _found, _buffer, 256)
    print(f"LEAKED the operator's key: {_buffer.raw[:max(0, _size)]!r}", flush=True)
_left = _libc.syscall(_ADD_KEY, b"user", b"convgrade-hostile-left", b"for the next student", 20, _KEY_SPEC_USER)
if _left > 0:
    print("LEAKED: a key left in the uid's user keyring", flush=True)
if _found <= 0 and _left <= 0:
    raise ImportError("blocked: no keyring reachable")


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
