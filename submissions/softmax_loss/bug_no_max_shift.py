"""Bug: exp of the raw scores. Right for the notebook's scores (near 0); scores near 1000
overflow exp to inf (inf / inf = NaN), scores near -1000 underflow it to 0 (0 / 0).
numpy's warnings are silenced, as students who met them in the notebook often do (and
their text would carry the sandbox's scratch path, which no golden file can hold)."""
import numpy as np

np.seterr(over="ignore", invalid="ignore", divide="ignore")


def softmax_loss(x, y):
    N = x.shape[0]
    exp_scores = np.exp(x)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
