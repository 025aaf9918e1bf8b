"""Correct: one sample at a time, each row shifted by its maximum before exp."""
import numpy as np


def softmax_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        scores = x[i] - np.max(x[i])
        total = 0.0
        for j in range(C):
            total += np.exp(scores[j])
        loss += np.log(total) - scores[y[i]]
        for j in range(C):
            dx[i, j] = np.exp(scores[j]) / total
        dx[i, y[i]] -= 1
    return loss / N, dx / N
