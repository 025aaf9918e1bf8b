"""Correct: margins for every class at once, the correct class's zeroed; the loss a numpy float64."""
import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, np.newaxis]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(N), y] = -np.sum(positive, axis=1)
    dx = positive / N
    return loss, dx
