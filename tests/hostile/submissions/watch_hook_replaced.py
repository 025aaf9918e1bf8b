"""Replaces the run-time watch's profile hook with its own (sys.setprofile(_quiet)) at the start
of every forward call, then reaches as_strided as getattr(np.lib, "stride_tricks").as_strided
(graded with forbidden.modules ["numpy.lib.stride_tricks"], policy "zero").
Expected: score 100; the result's integrity block marks the forward's check calls as "replaced"
(hook_tampering) and holds no run-time use.
"""
# ---- right answers; the forward through the forbidden call (the path is what the cases vary) ----
import numpy as np
import sys


def _windows(x_pad, HH, WW, stride, H_out, W_out):
    sN, sC, sH, sW = x_pad.strides
    N, C = x_pad.shape[:2]
    return getattr(np.lib, "stride_tricks").as_strided(x_pad, shape=(N, C, H_out, W_out, HH, WW),
                                                       strides=(sN, sC, stride * sH, stride * sW, sH, sW))


def _quiet(frame, event, arg):
    return None


def conv_forward_naive(x, w, b, conv_param):
    sys.setprofile(_quiet)
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    H_out = 1 + (x.shape[2] + 2 * pad - HH) // stride
    W_out = 1 + (x.shape[3] + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _windows(x_pad, HH, WW, stride, H_out, W_out)
    out = np.einsum("nchwij,fcij->nfhw", windows, w) + b.reshape(1, -1, 1, 1)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            window = x_pad[:, :, hs:hs + HH, ws:ws + WW]
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], window)
            dx_pad[:, :, hs:hs + HH, ws:ws + WW] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    return dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db
