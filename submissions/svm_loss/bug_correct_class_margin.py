"""Bug: the correct class is not skipped, so it adds a margin of max(0, 0 + 1) = 1 per sample.
The loss is exactly 1 too large; dx comes out right (its +1 and -1 at y[i] cancel), so the
notebook's gradient check passes and only its "around 9" (this prints about 10) tells."""
import numpy as np


def svm_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N
