"""Attack: at import, fills a folder of its working folder with 8 MiB and a link to /tmp (out
of the scratch), then makes it and the folder inside it mode 000. Under the grader's own uid
(the plain-user rung) a cleanup by rmtree(ignore_errors=True) could not list them: up to the
whole disk budget stayed in /tmp after every grading. A cleanup that restored permissions
through the link would change /tmp's mode; one that followed it would empty /tmp.
Expected: honest code, score 100; the output says the folder was locked; nothing of the
scratch is left on the host (the hostile suite's checks, and verdicts.py's on every rung).
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


def _lock_a_folder():
    if os.path.lexists("locked"):  # a later worker of the same grading (timing starts fresh ones)
        return
    inner = os.path.join("locked", "inner")
    os.makedirs(inner)
    with open(os.path.join(inner, "hostile-fill-locked.bin"), "wb") as out:
        out.write(b"\0" * (8 << 20))
    os.symlink("/tmp", os.path.join("locked", "link-out"))
    os.chmod(inner, 0)
    os.chmod("locked", 0)
    print(f"locked folder made: mode {os.stat('locked').st_mode & 0o777:03o}")


_lock_a_folder()


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
