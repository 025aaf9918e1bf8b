"""The spread of a figure between gradings, estimated from A/A gradings (the reference graded
against itself, ``convgrade doctor --timing``): its coefficient of variation, and an upper
confidence bound on it, since a handful of gradings says little about a spread.

The CV is taken on the log scale, as the interval uses it (``harness.timing.summarize_blocks``
adds ``1.96 * log1p(cv)`` in quadrature): cv = expm1(s), s the sample standard deviation of
the figures' logs. The upper bound is the one-sided 95% bound of a normal sample's standard
deviation, s * sqrt((k - 1) / chi2_0.05(k - 1)) for k gradings. Standard library only.
"""

from __future__ import annotations

import math
import statistics
from typing import NamedTuple

CONFIDENCE = 0.95  # of the upper bound


class Spread(NamedTuple):
    gradings: int
    cv: float  # the sample's own figure
    cv_upper: float  # one-sided CONFIDENCE upper bound: what intervals use


def spread(figures: list[float]) -> Spread:
    """The between-gradings spread of ``figures`` (one per grading, all > 0, at least two)."""
    if len(figures) < 2 or any(not (f > 0 and math.isfinite(f)) for f in figures):
        raise ValueError(f"need at least two positive, finite figures, got {figures!r}")
    k = len(figures)
    sd = statistics.stdev(math.log(f) for f in figures)
    upper = sd * math.sqrt((k - 1) / chi2_quantile(1 - CONFIDENCE, k - 1))
    return Spread(k, math.expm1(sd), math.expm1(upper))


def chi2_quantile(p: float, df: int) -> float:
    """x with P(chi-square(df) <= x) = p, by bisection on the regularized lower incomplete gamma."""
    if not 0 < p < 1 or df < 1:
        raise ValueError(f"need 0 < p < 1 and df >= 1, got p={p}, df={df}")
    low, high = 0.0, max(1.0, 10.0 * df)
    while _chi2_cdf(high, df) < p:
        high *= 2
    for _ in range(200):  # far below float resolution long before 200 halvings
        middle = (low + high) / 2
        if _chi2_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _chi2_cdf(x: float, df: int) -> float:
    return _lower_gamma_regularized(df / 2, x / 2)


def _lower_gamma_regularized(a: float, x: float) -> float:
    """P(a, x): the series where it converges fast (x < a + 1), else 1 - the continued fraction."""
    if x <= 0:
        return 0.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-16:
            n += 1
            term *= x / n
            total += term
        return total * math.exp(log_prefix)
    # Lentz's method for the continued fraction of Q(a, x).
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-16:
            break
    return 1.0 - math.exp(log_prefix) * h
