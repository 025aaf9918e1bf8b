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
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]
    dw = np.einsum("nfij,ncijhw->fchw", dout, windows)
    dx_pad = np.zeros_like(x_pad)
    for p in range(HH):  # each kernel offset scatters the whole output grid back at once
        for q in range(WW):
            dx_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride] += np.einsum(
                "nfij,fc->ncij", dout, w[:, :, p, q])
    return dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))
