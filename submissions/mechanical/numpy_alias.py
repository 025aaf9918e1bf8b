"""Mechanical first error: `np.float` and `np.int`, removed in NumPy 1.24. A vectorised
solution written in 2019; behind the aliases, everything is right."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = np.int(1 + (H + 2 * pad - HH) / stride)
    W_out = np.int(1 + (W + 2 * pad - WW) / stride)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    out = np.zeros((N, F, H_out, W_out), dtype=np.float)
    w_row = w.reshape(F, -1)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW].reshape(N, -1)
            out[:, :, i, j] = window.dot(w_row.T) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dx_pad = np.zeros(x_pad.shape, dtype=np.float)
    dw = np.zeros(w.shape, dtype=np.float)
    db = dout.sum(axis=(0, 2, 3))
    w_row = w.reshape(F, -1)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW].reshape(N, -1)
            dw += dout[:, :, i, j].T.dot(window).reshape(w.shape)
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                dout[:, :, i, j].dot(w_row).reshape(N, C, HH, WW)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
