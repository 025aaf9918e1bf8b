"""The fast reference: im2col through a strided window view, contracted with BLAS.

This is the yardstick students are timed against, so it should run close to a
plain GEMM of the same shape (``make bench`` measures how close). Pure numpy:

- Forward: the padded images are viewed as (N, C, HH, WW, H', W') windows
  (``sliding_window_view``, no copy), one contiguous copy turns the view into
  the im2col matrix, laid out (N, K, P) with K = C*HH*WW and P = H'*W', and a
  batched matmul ``w (F, K) @ cols (N, K, P)`` writes (N, F, P), which is
  already the output layout: no transpose copy of the result.
- Backward: dw = sum over images of dout (F, P) @ cols.T (P, K), and the
  column gradient dcols = w.T (K, F) @ dout (F, P) is scattered back onto the
  padded image by a loop over the HH*WW kernel offsets (small), each offset
  adding a whole strided (N, C, H', W') slab; no Python loop over positions.

Images are processed in blocks whose im2col matrix fits in a core's L2 cache,
so the copy that builds it and the GEMM that reads it meet in cache instead of
in main memory. This also bounds memory: the cache keeps the padded input, not
the im2col matrix (about HH*WW/stride**2 times larger), which backward rebuilds
block by block; rebuilding it in cache costs less than reading it back from memory.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .validate import ConvGeometry, check_dout, conv_geometry, result_dtype

# Target size of one block's im2col matrix: about the L2 cache of one core on the
# machines we grade on. Measured at the bench sizes against one unblocked im2col:
# forward about 20% faster, backward 5-13%; blocks of 0.5 to 4 MiB did about the same.
_BLOCK_BYTES = 1 << 20


def conv_forward(x, w, b, conv_param):
    """Returns (out, cache); the cache is (x_pad, w_mat, geometry)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    g = conv_geometry(x, w, b, conv_param)
    dtype = result_dtype(x, w, b)
    x_pad = _pad(x, g, dtype)
    w_mat = w.reshape(g.F, -1).astype(dtype, copy=False)  # (F, K)
    bias = b.astype(dtype, copy=False)[:, None]

    out = np.empty((g.N, g.F, g.H_out * g.W_out), dtype)
    for block in _image_blocks(g, dtype):
        np.matmul(w_mat, _im2col(x_pad[block], g, dtype), out=out[block])
        out[block] += bias  # while the block is still in cache
    return out.reshape(g.N, g.F, g.H_out, g.W_out), (x_pad, w_mat, g)


def conv_backward(dout, cache):
    """Gradients (dx, dw, db) of the loss, given dout = dloss/dout."""
    x_pad, w_mat, g = cache
    dout = np.asarray(dout)
    check_dout(dout, g)
    dtype = result_dtype(x_pad, w_mat, dout)
    w_mat = w_mat.astype(dtype, copy=False)
    dout_mat = dout.reshape(g.N, g.F, g.H_out * g.W_out).astype(dtype, copy=False)

    dx_pad = np.zeros(x_pad.shape, dtype)
    dw_mat = np.zeros(w_mat.shape, dtype)
    for block in _image_blocks(g, dtype):
        cols = _im2col(x_pad[block], g, dtype)  # (n, K, P)
        upstream = dout_mat[block]  # (n, F, P)
        dw_mat += np.matmul(upstream, cols.transpose(0, 2, 1)).sum(axis=0)
        _col2im_add(np.matmul(w_mat.T, upstream), dx_pad[block], g)
    db = dout_mat.sum(axis=(0, 2))
    dx = dx_pad[:, :, g.pad : g.pad + g.H, g.pad : g.pad + g.W]
    return dx, dw_mat.reshape(g.F, g.C, g.HH, g.WW), db


def _pad(x: np.ndarray, g: ConvGeometry, dtype: np.dtype) -> np.ndarray:
    """A zero-padded, C-contiguous copy of x in the working dtype."""
    x_pad = np.zeros((g.N, g.C, g.H + 2 * g.pad, g.W + 2 * g.pad), dtype)
    x_pad[:, :, g.pad : g.pad + g.H, g.pad : g.pad + g.W] = x
    return x_pad


def _image_blocks(g: ConvGeometry, dtype: np.dtype) -> list[slice]:
    """Slices of the batch axis, each holding at least one image."""
    cols_bytes_per_image = g.C * g.HH * g.WW * g.H_out * g.W_out * np.dtype(dtype).itemsize
    size = max(1, _BLOCK_BYTES // cols_bytes_per_image)
    return [slice(start, start + size) for start in range(0, g.N, size)]


def _windows(x_pad: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """A read-only (n, C, HH, WW, H', W') view: [.., k, l, i, j] = x_pad[.., i*s + k, j*s + l]."""
    # sliding_window_view checks its bounds, unlike a hand-written as_strided.
    every_offset = sliding_window_view(x_pad, (g.HH, g.WW), axis=(2, 3))
    # Stepping by the stride yields exactly H' x W' windows: validate.py made
    # (H + 2*pad - HH) a multiple of the stride.
    strided = every_offset[:, :, :: g.stride, :: g.stride]
    return strided.transpose(0, 1, 4, 5, 2, 3)


def _im2col(x_pad: np.ndarray, g: ConvGeometry, dtype: np.dtype) -> np.ndarray:
    """The (n, K, P) im2col matrix of a block of padded images: one contiguous copy."""
    cols = np.ascontiguousarray(_windows(x_pad, g), dtype=dtype)
    return cols.reshape(x_pad.shape[0], g.C * g.HH * g.WW, g.H_out * g.W_out)


def _col2im_add(dcols: np.ndarray, dx_pad: np.ndarray, g: ConvGeometry) -> None:
    """Add each column gradient (n, K, P) back to the padded-image pixel it was copied from.

    Windows overlap when the stride is smaller than the kernel, so one fancy-index
    assignment would drop repeated contributions; looping over the HH*WW kernel
    offsets instead makes each step a plain strided add with no repeats.
    """
    dcols = dcols.reshape(dx_pad.shape[0], g.C, g.HH, g.WW, g.H_out, g.W_out)
    s = g.stride
    for k in range(g.HH):
        for l in range(g.WW):
            dx_pad[:, :, k : k + s * g.H_out : s, l : l + s * g.W_out : s] += dcols[:, :, k, l]
