"""Mechanical first error: a git merge left its conflict markers in conv_backward_naive.
The first side (HEAD) slices dx with pad:-pad, empty at pad 0; the second side is right."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.einsum('nchw,fchw->nf', window, w) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.einsum('nf,nchw->fchw', dout[:, :, i, j], window)
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.einsum('nf,fchw->nchw', dout[:, :, i, j], w)
<<<<<<< HEAD
    dx = dx_pad[:, :, pad:-pad, pad:-pad]
=======
    # keep the unpadded part (pad may be 0)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
>>>>>>> fix-pad-zero
    return dx, dw, db
