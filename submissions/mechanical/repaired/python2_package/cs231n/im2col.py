# Python 2 helper of the cs231n package, repaired by hand: range for xrange.
import numpy as np


def im2col_indices(C, HH, WW, H_out, W_out, stride):
    """Row and column indices into the padded input of every (c, dy, dx) x (i, j) window."""
    rows = np.zeros((C * HH * WW, H_out * W_out), dtype=np.int64)
    cols = np.zeros((C * HH * WW, H_out * W_out), dtype=np.int64)
    chans = np.zeros((C * HH * WW, 1), dtype=np.int64)
    for c in range(C):
        for dy in range(HH):
            for dx in range(WW):
                k = (c * HH + dy) * WW + dx
                chans[k] = c
                for i in range(H_out):
                    for j in range(W_out):
                        rows[k, i * W_out + j] = i * stride + dy
                        cols[k, i * W_out + j] = j * stride + dx
    return chans, rows, cols
