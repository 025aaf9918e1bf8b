"""Bug: the template's seeding replaced by a generator of the module's own, which never
sees dropout_param['seed']: the same seed gives a different mask at each call."""
import numpy as np

RNG = np.random.default_rng(231)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    if mode == "train":
        mask = (RNG.random(x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout
