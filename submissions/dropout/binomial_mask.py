"""Correct, a second style: a 0/1 mask from np.random.binomial, the division by p done
in both passes, and the cache a dict."""
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = np.random.binomial(1, p, size=x.shape)
        out = np.where(mask == 1, x / p, 0.0)
    else:
        mask = None
        out = x.copy()
    return out, {"param": dropout_param, "mask": mask}


def dropout_backward(dout, cache):
    if cache["param"]["mode"] == "test":
        return dout.copy()
    return np.where(cache["mask"] == 1, dout / cache["param"]["p"], 0.0)
