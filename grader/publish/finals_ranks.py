"""Finals ranks from paired comparisons: each round's figures, compared within the round.

    compare(a, b, figures)      -> Comparison   a against b over the rounds both were timed in
    rank_finalists(figures)     -> list[Placing] in rank order

``figures`` maps each finalist to its figure in each round (its speed against the
reference in that round; None where that round has none). In one round every finalist
is timed in the same session on the same host, so whatever the machine does between
rounds (a neighbour, a clock, a warmer cache) moves all of a round's figures alike; the
per-round log ratio log(f_a,r / f_b,r) cancels it, and the spread of those ratios over
rounds is what is left to compare a and b by.

- A pair: the mean of its per-round log ratios and a 95% t-interval over rounds
  (n - 1 degrees of freedom), and the paired t-test's p-value. With N finalists there are
  N(N-1)/2 such tests: a is significantly faster than b when its test rejects "the same
  speed" under Holm's correction over all of them (5% family-wise); with fewer than two
  common rounds nobody is told apart.
- The order: by each finalist's mean paired log ratio against every other finalist
  (with every round complete, exactly the order of the geometric-mean figures).
- The rank: 1 + the finalists significantly faster, made non-decreasing down the
  order (as the board's ranks are); the rank interval [1 + significantly faster,
  N - significantly slower] says where the finalist could stand.
Pure arithmetic: nothing here reads a file or a clock.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Literal

CI_LEVEL = 0.95
ALPHA = 1 - CI_LEVEL

Verdict = Literal["faster", "slower", "not different"]


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction, as in
    Numerical Recipes' betacf): what Student's t distribution is computed from."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1.0 - _incomplete_beta(1.0 - x, b, a)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return front * result


def t_two_sided_p(t: float, degrees_of_freedom: int) -> float:
    """P(|T| >= |t|) for Student's t with the given degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return _incomplete_beta(degrees_of_freedom / (degrees_of_freedom + t * t), degrees_of_freedom / 2, 0.5)


def t_975(degrees_of_freedom: int) -> float:
    """The 0.975 quantile of Student's t (a 95% two-sided interval's multiplier), by bisection
    on the distribution itself: right at every degree of freedom (1.96 only in the limit)."""
    low, high = 0.0, 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_two_sided_p(middle, degrees_of_freedom) > ALPHA else (low, middle)
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    """A geometric mean of ratios and its 95% t-interval (None ends with under two values)."""

    value: float
    low: float | None
    high: float | None
    count: int


def log_t_interval(logs: list[float]) -> Interval:
    """exp of the mean of ``logs`` and of its 95% t-interval."""
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return Interval(math.exp(mean), None, None, len(logs))
    half = t_975(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), len(logs))


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    ratio: Interval
    """f_a / f_b: the geometric mean of the per-round ratios, with its interval."""
    verdict: Verdict
    """a against b: faster or slower when the paired t-test rejects "the same speed", Holm's
    correction over every pair of the finalists ranked together applied (``holm``)."""
    p: float | None = None
    """The two-sided p-value of the paired t-test (None under two common rounds)."""


def paired_log_ratios(a: list[float | None], b: list[float | None]) -> list[float]:
    """log(f_a,r / f_b,r) for every round r in which both have a figure."""
    return [math.log(x) - math.log(y) for x, y in zip(a, b) if x is not None and y is not None]


def compare(a: str, b: str, figures: dict[str, list[float | None]]) -> Comparison | None:
    """a against b over their common rounds; None when they share no round."""
    logs = paired_log_ratios(figures[a], figures[b])
    if not logs:
        return None
    ratio = log_t_interval(logs)
    p = None
    if len(logs) >= 2:
        mean, spread = statistics.fmean(logs), statistics.stdev(logs)
        p = (1.0 if mean == 0 else 0.0) if spread == 0 else t_two_sided_p(
            mean / (spread / math.sqrt(len(logs))), len(logs) - 1)
    verdict: Verdict = "not different"
    if p is not None and p <= ALPHA:
        verdict = "faster" if ratio.value > 1.0 else "slower"
    return Comparison(a, b, ratio, verdict, p)


def holm(comparisons: list[Comparison]) -> list[Comparison]:
    """The comparisons with Holm's step-down correction over all of them (the family-wise
    error rate at 5%): the i-th smallest p-value (from 0) is significant when it and every
    smaller one is at most 0.05 / (m - i). Verdicts are of each unordered pair once."""
    m = len(comparisons)
    significant, order = set(), sorted(range(m), key=lambda i: (comparisons[i].p is None, comparisons[i].p or 0.0))
    for step, i in enumerate(order):
        p = comparisons[i].p
        if p is None or p > ALPHA / (m - step):
            break
        significant.add(i)
    return [c if i in significant or c.verdict == "not different" else replace(c, verdict="not different")
            for i, c in enumerate(comparisons)]


@dataclass(frozen=True)
class Placing:
    student_id: str
    rank: int | None
    """None: unranked (``reason`` says why)."""
    rank_best: int | None
    """1 + the finalists significantly faster."""
    rank_worst: int | None
    """N - the finalists significantly slower (at least ``rank``)."""
    figure: Interval | None
    """The geometric mean over rounds of the finalist's own figure, with its t-interval
    (which, unlike the paired comparisons, still carries the drift between rounds)."""
    score: float
    """Mean paired log ratio against the other finalists: the order's key."""
    faster_than: tuple[str, ...]
    slower_than: tuple[str, ...]
    reason: str | None = None
    """Why the finalist is unranked (None when ranked)."""


def missing_rounds(figures: list[float | None], rounds_planned: int) -> str | None:
    """Why a finalist cannot be ranked: it lacks a figure in some planned round. A paired
    mean over fewer rounds than the others' is not the same measure (and a finalist could
    choose its rounds by failing the slow ones)."""
    timed = sum(f is not None for f in figures)
    return None if timed >= rounds_planned else f"timed in {timed} of {rounds_planned} planned rounds"


def rank_finalists(figures: dict[str, list[float | None]], rounds_planned: int | None = None,
                   excluded: dict[str, str] | None = None) -> list[Placing]:
    """Every finalist, in rank order (see the module doc); ties in order by id. Only the
    finalists with a figure in every one of ``rounds_planned`` rounds (default: the rounds
    given) and not in ``excluded`` (id -> why) are ranked; the others follow, unranked,
    with the reason."""
    planned = rounds_planned if rounds_planned is not None else max((len(f) for f in figures.values()), default=0)
    reasons = {a: (excluded or {}).get(a) or missing_rounds(figures[a], planned) for a in figures}
    unranked = [a for a in sorted(figures) if reasons[a] is not None]
    ids = sorted(a for a in figures if reasons[a] is None)
    comparisons = {}
    for pair in comparisons_of({a: figures[a] for a in ids}):
        comparisons[(pair.a, pair.b)] = pair
        comparisons[(pair.b, pair.a)] = flipped(pair)
    scores = {}
    for a in ids:
        logs = [math.log(c.ratio.value) for b in ids if b != a and (c := comparisons.get((a, b))) is not None]
        scores[a] = statistics.fmean(logs) if logs else 0.0
    order = sorted(ids, key=lambda a: (-scores[a], a))
    placings, highest = [], 0
    for a in order:
        ahead = tuple(b for b in order if (c := comparisons.get((a, b))) is not None and c.verdict == "slower")
        behind = tuple(b for b in order if (c := comparisons.get((a, b))) is not None and c.verdict == "faster")
        highest = max(highest, 1 + len(ahead))  # down the order a rank never improves
        own = [math.log(f) for f in figures[a] if f is not None]
        placings.append(Placing(a, highest, 1 + len(ahead), max(highest, len(ids) - len(behind)),
                                log_t_interval(own) if own else None, scores[a], behind, ahead))
    for a in unranked:
        own = [math.log(f) for f in figures[a] if f is not None]
        placings.append(Placing(a, None, None, None, log_t_interval(own) if own else None, 0.0, (), (), reasons[a]))
    return placings


def comparisons_of(figures: dict[str, list[float | None]]) -> list[Comparison]:
    """Every pair once (a before b by id), Holm-corrected as one family."""
    ids = sorted(figures)
    pairs = (compare(a, b, figures) for i, a in enumerate(ids) for b in ids[i + 1:])
    return holm([pair for pair in pairs if pair is not None])


def flipped(pair: Comparison) -> Comparison:
    """b against a."""
    ratio = pair.ratio
    inverse = Interval(1 / ratio.value, 1 / ratio.high if ratio.high else None, 1 / ratio.low if ratio.low else None,
                       ratio.count)
    verdict: Verdict = {"faster": "slower", "slower": "faster"}.get(pair.verdict, "not different")
    return Comparison(pair.b, pair.a, inverse, verdict, pair.p)


def ratio_cv(a: list[float | None], b: list[float | None]) -> float | None:
    """The coefficient of variation of a pair's per-round ratios f_a,r / f_b,r (the
    reproducibility benchmark's measure); None with fewer than two common rounds."""
    ratios = [x / y for x, y in zip(a, b) if x is not None and y is not None]
    return statistics.stdev(ratios) / statistics.fmean(ratios) if len(ratios) >= 2 else None
