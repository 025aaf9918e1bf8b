"""Reaches the forbidden functions through NumPy 2's private module: sliding_window_view of
importlib.import_module("numpy.lib._stride_tricks_impl") (graded with forbidden.modules
["numpy.lib.stride_tricks"], policy "zero"); the module named in the source is not a pattern.
Expected: exactly what forbidden_plain_as_strided gets: the forward's checks score 0 ("forbids a
call"), the backward's keep their points; the run-time watch names sliding_window_view.
"""
# ---- right answers; the forward through the forbidden call (the path is what the cases vary) ----
import numpy as np
import importlib


def _windows(x_pad, HH, WW, stride, H_out, W_out):
    impl = importlib.import_module("numpy.lib._stride_tricks_impl")
    return impl.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :H_out, :W_out]


def conv_forward_naive(x, w, b, conv_param):
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
