"""Forbidden through an alias: `from scipy import signal as s`, then s.correlate inside a
helper that conv_forward_naive calls. The static check must resolve both the alias and the
helper; the backward does not use it and must not be blamed."""
import numpy as np
from scipy import signal as s


def _correlate_all(x_pad, w):
    return np.array([[s.correlate(x_pad[n], w[f], mode="valid")[0] for f in range(w.shape[0])]  # FORBIDDEN CALL
                     for n in range(x_pad.shape[0])])


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = _correlate_all(x_pad, w)[:, :, ::stride, ::stride] + b[None, :, None, None]
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
