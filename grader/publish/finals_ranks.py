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
  (n - 1 degrees of freedom). a is significantly faster than b when the interval lies
  above 0; with fewer than two common rounds nobody is told apart.
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
from dataclasses import dataclass
from typing import Literal

# Two-sided 95% quantiles of Student's t (the 0.975 quantile) for 1..30 degrees of
# freedom; beyond, the normal's 1.96 is within 2%.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)
CI_LEVEL = 0.95

Verdict = Literal["faster", "slower", "not different"]


def t_975(degrees_of_freedom: int) -> float:
    return T_975[degrees_of_freedom - 1] if degrees_of_freedom <= len(T_975) else 1.96


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
    """a against b: faster or slower when the interval excludes 1."""


def paired_log_ratios(a: list[float | None], b: list[float | None]) -> list[float]:
    """log(f_a,r / f_b,r) for every round r in which both have a figure."""
    return [math.log(x) - math.log(y) for x, y in zip(a, b) if x is not None and y is not None]


def compare(a: str, b: str, figures: dict[str, list[float | None]]) -> Comparison | None:
    """a against b over their common rounds; None when they share no round."""
    logs = paired_log_ratios(figures[a], figures[b])
    if not logs:
        return None
    ratio = log_t_interval(logs)
    verdict: Verdict = "not different"
    if ratio.low is not None and ratio.low > 1.0:
        verdict = "faster"
    elif ratio.high is not None and ratio.high < 1.0:
        verdict = "slower"
    return Comparison(a, b, ratio, verdict)


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
    comparisons = {(a, b): compare(a, b, figures) for a in ids for b in ids if a != b}
    scores = {}
    for a in ids:
        logs = [math.log(c.ratio.value) for b in ids if b != a and (c := comparisons[(a, b)]) is not None]
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
    """Every pair once (a before b by id)."""
    ids = sorted(figures)
    pairs = (compare(a, b, figures) for i, a in enumerate(ids) for b in ids[i + 1:])
    return [pair for pair in pairs if pair is not None]


def ratio_cv(a: list[float | None], b: list[float | None]) -> float | None:
    """The coefficient of variation of a pair's per-round ratios f_a,r / f_b,r (the
    reproducibility benchmark's measure); None with fewer than two common rounds."""
    ratios = [x / y for x, y in zip(a, b) if x is not None and y is not None]
    return statistics.stdev(ratios) / statistics.fmean(ratios) if len(ratios) >= 2 else None
