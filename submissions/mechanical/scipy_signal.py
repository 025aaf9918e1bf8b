"""A student's convolution on scipy.signal: each output map is a 2-D cross-correlation of
a padded input channel with a filter, summed over the channels and sampled at the stride;
the backward pass dilates the upstream gradient by the stride and correlates (for dw) or
convolves (for dx) with it. Correct wherever scipy can be imported: the course must allow
scipy (the configuration's `packages`), else the import fails and nothing runs.
"""
import numpy as np
from scipy import signal


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            total = np.zeros((H + 2 * pad - HH + 1, W + 2 * pad - WW + 1))
            for c in range(C):
                total += signal.correlate2d(x_pad[n, c], w[f, c], mode="valid")
            out[n, f] = total[::stride, ::stride][:H_out, :W_out] + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def _dilate(grad, stride):
    """The upstream gradient with stride - 1 zeros between its entries."""
    N, F, H_out, W_out = grad.shape
    dilated = np.zeros((N, F, (H_out - 1) * stride + 1, (W_out - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = grad
    return dilated


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    grad = _dilate(dout, stride)
    rows, cols = grad.shape[2] + HH - 1, grad.shape[3] + WW - 1
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for c in range(C):
                dw[f, c] += signal.correlate2d(x_pad[n, c], grad[n, f], mode="valid")[:HH, :WW]
                dx_pad[n, c, :rows, :cols] += signal.convolve2d(grad[n, f], w[f, c], mode="full")
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
