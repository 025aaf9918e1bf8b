# The Python 2 cs231n/ package repaired by hand: relative imports, a print call.
import numpy as np
from .im2col import *
from .fast_layers import pad_input


def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    print('conv_forward_naive:', x.shape, '->', (N, F, H_out, W_out))
    x_pad = pad_input(x, pad)
    chans, rows, cols = im2col_indices(C, HH, WW, H_out, W_out, stride)
    x_cols = x_pad[:, chans, rows, cols]  # (N, C*HH*WW, H_out*W_out)
    out = np.einsum('fk,nkp->nfp', w.reshape(F, -1), x_cols) + b[None, :, None]
    cache = (x, w, b, conv_param)
    return out.reshape(N, F, H_out, W_out), cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    _, _, H_out, W_out = dout.shape
    x_pad = pad_input(x, pad)
    chans, rows, cols = im2col_indices(C, HH, WW, H_out, W_out, stride)
    x_cols = x_pad[:, chans, rows, cols]
    d = dout.reshape(N, F, -1)
    db = d.sum(axis=(0, 2))
    dw = np.einsum('nfp,nkp->fk', d, x_cols).reshape(w.shape)
    dx_cols = np.einsum('fk,nfp->nkp', w.reshape(F, -1), d)
    dx_pad = np.zeros_like(x_pad)
    np.add.at(dx_pad, (slice(None), chans, rows, cols), dx_cols)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
