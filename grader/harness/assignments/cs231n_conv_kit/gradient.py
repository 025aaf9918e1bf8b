"""Backward against numerical gradients of the student's own forward, as the notebook
checks it (shipped in the kit; numpy only). Centered differences on a fixed sample of
elements keep it quick even for loop solutions."""

from __future__ import annotations

import numpy as np

STEP = 1e-5
SAMPLES = 12  # elements of x and of w; every element of b
# A correct backward agrees with centered differences to about 1e-8 here; a wrong one is off by far more.
TOLERANCE = 1e-5


def numerical_gradient(f, array: np.ndarray, dout: np.ndarray, indices) -> np.ndarray:
    """d(sum(f() * dout)) / d(array[index]) for each index, by centered differences."""
    grads = []
    for index in indices:
        old = array[index]
        array[index] = old + STEP
        plus = f()
        array[index] = old - STEP
        minus = f()
        array[index] = old
        grads.append(np.sum((plus - minus) * dout) / (2 * STEP))
    return np.array(grads)


def sample_indices(shape, count: int, rng: np.random.Generator):
    size = int(np.prod(shape))
    flat = rng.choice(size, size=min(count, size), replace=False)
    return [np.unravel_index(int(i), shape) for i in sorted(flat)]


def gradient_errors(forward, x, w, b, conv_param, dout, analytic: dict) -> dict[str, float]:
    """Relative error, per gradient, between the student's backward (``analytic``) and
    numerical gradients of their forward, on a fixed sample of elements."""
    rng = np.random.default_rng(231)
    x, w, b = x.copy(), w.copy(), b.copy()

    def run():
        return np.asarray(forward(x, w, b, dict(conv_param))[0], dtype=np.float64)

    errors = {}
    for label, array in (("dx", x), ("dw", w), ("db", b)):
        indices = sample_indices(array.shape, SAMPLES if label != "db" else array.size, rng)
        numeric = numerical_gradient(run, array, dout, indices)
        given = np.array([analytic[label][index] for index in indices])
        errors[label] = float(np.max(np.abs(numeric - given) / np.maximum(1e-8, np.abs(numeric) + np.abs(given))))
    return errors
