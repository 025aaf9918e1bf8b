"""Attack: the first forward call asks fallocate(2) with FALLOC_FL_KEEP_SIZE for 256 MiB (and
then ZERO_RANGE with KEEP_SIZE) in its working folder. KEEP_SIZE leaves the file's size at 0,
so the file size limit does not stop it, and ext4, xfs and overlayfs allocate the whole
length: a disk budget that charged it at most the file size limit (16 MiB) let 4 GiB through
against 256 MiB. Allocating more than the 32 MiB scratch cap ends in "LEAKED".
Expected: refused (EFBIG on a tmpfs, which checks the file size limit anyway; ENOSPC from the
disk budget, which charges the whole length): "fallocate(KEEP_SIZE) of 256 MiB refused";
only the notebook forward check fails; score 90.
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
import errno
import os

_attacked = []
FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE = 0x01, 0x10
ASKED = 256 << 20


def _fallocate(fd, mode, length):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    return 0 if libc.fallocate(fd, mode, 0, length) == 0 else ctypes.get_errno()


def _allocate_past_the_cap():
    refused, first = [], 0
    for name, mode in (("keep-size", FALLOC_FL_KEEP_SIZE), ("zero-range", FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)):
        with open(f"hostile-fill-{name}.bin", "wb") as out:
            error = _fallocate(out.fileno(), mode, ASKED)
            allocated = os.fstat(out.fileno()).st_blocks * 512
        if allocated > 32 << 20:
            raise RuntimeError(f"LEAKED: fallocate({name}) allocated {allocated >> 20} MiB")
        if name == "keep-size" and error not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise OSError(error, f"fallocate(KEEP_SIZE) gave {errno.errorcode.get(error, error)}")
        refused.append(f"{name}: {errno.errorcode.get(error, error)}")
        first = first or error
    raise OSError(first, f"fallocate(KEEP_SIZE) of {ASKED >> 20} MiB refused ({', '.join(refused)})")


def conv_forward_naive(x, w, b, conv_param):
    if not _attacked:
        _attacked.append(True)
        _allocate_past_the_cap()
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
