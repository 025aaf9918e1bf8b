"""Hint only, no what-if: numpy.lib.arraypad is gone from NumPy 2 and this file uses its
pad(). Replacing it by np.pad is the student's call (a rename the grader does not make)."""
import numpy as np
from numpy.lib.arraypad import pad


def conv_forward_naive(x, w, b, conv_param):
    stride, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * p - HH) // stride
    W_out = 1 + (W + 2 * p - WW) // stride
    x_pad = pad(x, ((0, 0), (0, 0), (p, p), (p, p)), 'constant')
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.einsum('nchw,fchw->nf', window, w) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, p = conv_param['stride'], conv_param['pad']
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = pad(x, ((0, 0), (0, 0), (p, p), (p, p)), 'constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.einsum('nf,nchw->fchw', dout[:, :, i, j], window)
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.einsum('nf,fchw->nchw', dout[:, :, i, j], w)
    return dx_pad[:, :, p:p + H, p:p + W], dw, dout.sum(axis=(0, 2, 3))
