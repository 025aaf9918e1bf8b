"""Hostile: returns an ndarray subclass that claims equality with anything and a zero
difference, with the right shape and garbage values. The grader never runs a method of a
returned object: it refuses anything but a plain numpy.ndarray ("out is a
hostile_lying_array.Agreeable, expected a numpy.ndarray")."""
import numpy as np


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, bool)

    def __sub__(self, other):
        return np.zeros(self.shape)

    def __abs__(self):
        return np.zeros(self.shape)

    def __reduce__(self):  # pickling, should the grader try it, gives a right-looking zero array
        return (np.zeros, (self.shape,))


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    shape = (N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride)
    return np.full(shape, 3.0).view(Agreeable), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, _ = cache
    return np.full(x.shape, -1.0).view(Agreeable)
