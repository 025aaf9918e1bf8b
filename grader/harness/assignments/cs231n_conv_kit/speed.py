"""An honest local speed comparison (shipped in the kit; numpy only).

No reference code ships, so the yardstick is numpy's own matrix product (GEMM) of the
shape a convolution reduces to: forward is (F, C*HH*WW) @ (C*HH*WW, N*H'*W'), backward
two products of the same size (dw and the columns of dx). That is close to the floor
for any numpy solution on this machine: the grader's reference, an im2col or strided
solution, adds the cost of building the columns on top. The grader's own figure is
measured against its reference on the grading machine, not this one.
"""

from __future__ import annotations

import time

import numpy as np

TRIAL_BUDGET_S = 5.0
MAX_TRIALS = 5


def best_time(call, budget_s: float = TRIAL_BUDGET_S) -> tuple[float, int]:
    """(fastest time of one call, trials run): trials until MAX_TRIALS or the budget is spent."""
    times, started = [], time.perf_counter()
    while len(times) < MAX_TRIALS and (not times or time.perf_counter() - started < budget_s):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return min(times), len(times)


def gemm_times(x_shape, w_shape, conv_param) -> tuple[float, float, str]:
    """(forward GEMM seconds, backward GEMMs seconds, the shape in words)."""
    n, c, h, w = x_shape
    f, _, hh, ww = w_shape
    pad, stride = conv_param["pad"], conv_param["stride"]
    positions = n * (1 + (h + 2 * pad - hh) // stride) * (1 + (w + 2 * pad - ww) // stride)
    rng = np.random.default_rng(0)
    weights, columns = rng.standard_normal((f, c * hh * ww)), rng.standard_normal((c * hh * ww, positions))
    grad = rng.standard_normal((f, positions))
    forward, _ = best_time(lambda: weights @ columns)
    backward, _ = best_time(lambda: (grad @ columns.T, weights.T @ grad))
    return forward, backward, f"({f} x {c * hh * ww}) @ ({c * hh * ww} x {positions})"


def ratio_words(yours: float, gemm: float) -> str:
    return f"{yours / gemm:.1f}x the GEMM's time" if yours >= gemm else f"{gemm / yours:.1f}x faster than the GEMM"
