"""Bug: a mask shaped from x.shape[0] and x.shape[1]: right on the notebook's 2-D input,
a broadcasting error on the activations of a convolutional layer (N, C, H, W)."""
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        N, D = x.shape[0], x.shape[1]
        mask = (np.random.rand(N, D) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout
