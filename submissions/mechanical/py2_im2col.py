"""Mechanical first error: Python 2 division in an im2col solution. `/` gives float output
sizes in Python 3; they never reach np.zeros, but the index arrays they make are floats and
np.take refuses them ("Cannot cast array data from dtype('float64') to dtype('int64')").
The file is Python 2 elsewhere too (print_function, xrange in the backward's loops). The
convolution itself is right: with `//` and range it passes every check."""
from __future__ import print_function

import numpy as np


def _im2col_indices(C, HH, WW, H_out, W_out, stride, Hp, Wp):
    # Flat index, in one padded image, of every pixel each output position reads.
    i0 = np.tile(np.repeat(np.arange(HH), WW), C)
    j0 = np.tile(np.arange(WW), HH * C)
    k = np.repeat(np.arange(C), HH * WW)
    rows, cols = np.meshgrid(stride * np.arange(H_out), stride * np.arange(W_out), indexing='ij')
    i = i0.reshape(-1, 1) + rows.reshape(1, -1)
    j = j0.reshape(-1, 1) + cols.reshape(1, -1)
    return (k.reshape(-1, 1) * Hp + i) * Wp + j


def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = (H + 2 * pad - HH) / stride + 1
    W_out = (W + 2 * pad - WW) / stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    index = _im2col_indices(C, HH, WW, H_out, W_out, stride, H + 2 * pad, W + 2 * pad)
    cols = np.take(x_pad.reshape(N, -1), index, axis=1)  # (N, C*HH*WW, H_out*W_out)
    cols = cols.transpose(1, 2, 0).reshape(C * HH * WW, -1)
    out = w.reshape(F, -1).dot(cols) + b.reshape(-1, 1)
    out = out.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = (H + 2 * pad - HH) / stride + 1
    W_out = (W + 2 * pad - WW) / stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in xrange(H_out):
        for j in xrange(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            for f in xrange(F):
                dw[f] += np.sum(window * dout[:, f, i, j][:, None, None, None], axis=0)
            for n in xrange(N):
                dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                    np.sum(w * dout[n, :, i, j][:, None, None, None], axis=0)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
