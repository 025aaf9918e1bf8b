"""Returns arrays of the right shape and dtype filled with noise: every call "works", no
output is right, and no input is touched. It must score 0, not the 10 points of
"inputs unchanged"."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    shape = (n, f, 1 + (h + 2 * pad - hh) // stride, 1 + (wd + 2 * pad - ww) // stride)
    return np.random.default_rng(0).standard_normal(shape), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, _ = cache
    rng = np.random.default_rng(1)
    return rng.standard_normal(x.shape), rng.standard_normal(w.shape), rng.standard_normal(b.shape)
