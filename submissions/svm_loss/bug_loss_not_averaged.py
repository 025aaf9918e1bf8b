"""Bug: the loss is the sum over the batch, not its mean; dx is divided by N as it should be."""
import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    scores_y = x[np.arange(N), y]
    margins = np.maximum(0, x - scores_y[:, None] + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= np.sum(margins > 0, axis=1)
    dx /= N
    return loss, dx
