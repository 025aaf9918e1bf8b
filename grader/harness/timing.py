"""The one place time is read and timing figures are computed.

Every duration in a result is read in the harness process: the student's process
never reports a time, so patching ``time`` there changes nothing.

What is timed: a call's CPU time as the kernel accounts it to the worker process
(``worker_cpu_ns``: the process CPU-time clock of another pid, every thread of it,
user and system time), read by the harness while the worker is held stopped before
and after the call. The harness's own work (staging inputs, copying outputs out),
pipe round trips, and time the core was given to another process are not in it; a
call's wall time on ``clock_ns`` is its deadline only.

The figure the class competes on comes from several fresh worker pairs per grading.
Within a pair, student and reference take turns on the same inputs, in runs: one side
times a run of trials' calls in a row (``run_length``, 4 for fast code), then the other
side the same trials, and the next run starts with the other side (A B B A ...).
Alternation cancels slow drifts of machine load (TIMING_FACTS: a ratio's spread drops
from 21% to 1.5% under bursty load). Runs are there because a call straight after the
other side's calls starts with caches and TLB that code just used: the reference's
forward at the speed cell took about 27% longer after another process ran the same
layer on the core than in a loop alone (bench/bench_grader.py part 1); alternating call
by call, the grader reported 3.1-3.5 ms against 2.2-2.3 ms in-process. Each side's run starts with
an untimed call pair on inputs already timed (for a pair's first run, the reference's
warm-up inputs): the reference's always, so it is timed alike for every student, and
the student's where its call pair is under REWARM_LIMIT_S. So every reference call, and
a fast student's, follows one of its own side, as in a notebook's loop. The outputs are
checked after both runs. A block is two runs, each side once
first and once second, so what is left of the order's bias cancels; the pair's figure
is the geometric mean of its block ratios (``block_ratios``). The grading's figure is
the geometric mean of the pair figures, and its interval is where another grading of
the same file should fall (``summarize_blocks``).
"""

from __future__ import annotations

import ctypes
import math
import statistics
import time
from dataclasses import dataclass

clock_ns = time.perf_counter_ns

# Linux encodes "the CPU-time clock of process PID" as a negative clockid:
# ((~pid) << 3) | CPUCLOCK_SCHED (kernel/time/posix-cpu-timers.c, MAKE_PROCESS_CPUCLOCK).
# Reading another process's clock needs no privilege, and the value is the scheduler's
# exact runtime of all its threads, including io_uring's worker threads (they belong to
# the thread group).
_CPUCLOCK_SCHED = 2


def process_cpu_clock(pid: int) -> int:
    return ((~pid) << 3) | _CPUCLOCK_SCHED


def worker_cpu_ns(pid: int) -> int:
    """CPU time consumed so far by process ``pid`` (ns); OSError when it is gone."""
    return time.clock_gettime_ns(process_cpu_clock(pid))


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free confidence interval for the median, from order statistics.

    Returns (low, high, coverage). With few values no interval reaches ``level``
    (three values cover the median with 75% at best); the widest one is returned
    with its true coverage instead of pretending.
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("no values")
    # P(Binomial(n, 1/2) <= j), accumulated; the interval [x_(k), x_(n+1-k)] misses
    # the median with probability 2 * P(B <= k - 1).
    cumulative, below = [], 0.0
    for j in range(n + 1):
        below += math.comb(n, j) / 2**n
        cumulative.append(below)
    best_k, coverage = 1, 1 - 2 * cumulative[0]
    for k in range(1, (n + 1) // 2 + 1):
        this_coverage = 1 - 2 * cumulative[k - 1]
        if this_coverage >= level:
            best_k, coverage = k, this_coverage
    return ordered[best_k - 1], ordered[n - best_k], coverage


@dataclass(frozen=True)
class RatioSummary:
    trials: int
    student_median_s: float
    reference_median_s: float
    speedup: float  # median of reference / student per trial
    ci_low: float
    ci_high: float
    ci_level: float


def summarize_pairs(student_s: list[float], reference_s: list[float]) -> RatioSummary:
    if len(student_s) != len(reference_s) or not student_s:
        raise ValueError("need the same, non-zero number of student and reference times")
    ratios = [r / s for s, r in zip(student_s, reference_s)]
    low, high, level = median_ci(ratios)
    return RatioSummary(
        trials=len(ratios),
        student_median_s=statistics.median(student_s),
        reference_median_s=statistics.median(reference_s),
        speedup=statistics.median(ratios),
        ci_low=low,
        ci_high=high,
        ci_level=round(level, 4),
    )


# Two-sided 95% quantiles of Student's t (0.975 quantile) for 1..30 degrees of freedom.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)
T_LEVEL = 0.95


def t_quantile_975(df: int) -> float:
    return T_975[df - 1] if df <= len(T_975) else 1.96


@dataclass(frozen=True)
class BlockSummary:
    """The figure of a grading timed in several worker pairs ("blocks")."""

    trials: int
    student_median_s: float
    reference_median_s: float
    speedup: float  # geometric mean of the pairs' figures (pair_figure)
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    pair_speedups: list[float]


def block_ratios(student_s: list[float], reference_s: list[float], block: int = 2) -> list[float]:
    """Ratios reference / student over blocks of ``block`` trials (two runs, see
    ``run_length``): within a block each side ran once first and once second, so the
    order's bias cancels. Trials after the last whole block lean by their order and are
    left out (their times stay in the result); a pair of less than one block (slow code)
    has only what it has."""
    if len(student_s) != len(reference_s) or not student_s:
        raise ValueError("need the same, non-zero number of student and reference times")
    whole = (len(student_s) - len(student_s) % block) or len(student_s)
    return [sum(reference_s[k:k + block]) / sum(student_s[k:k + block]) for k in range(0, whole, block)]


def pair_figure(student_s: list[float], reference_s: list[float], block: int = 2) -> float:
    """One worker pair's speedup: the geometric mean of its block ratios."""
    return math.exp(statistics.fmean(math.log(ratio) for ratio in block_ratios(student_s, reference_s, block)))


def summarize_blocks(student_s: list[list[float]], reference_s: list[list[float]],
                     between_gradings_cv: float = 0.0, block_sizes: list[int] | None = None,
                     drift_source: str = "") -> BlockSummary:
    """Combine per-pair timings into the grading's figure and its regrade interval.

    Each pair's figure is ``pair_figure``; the grading's is the geometric mean of the
    pairs'. The interval answers the question a student asks: where would another
    grading of this file land? Its half-width, on the log scale, is sqrt(2) times the
    standard error of this grading's figure (the difference of two gradings' figures
    has twice the variance of one), where that error combines in quadrature the
    spread between fresh worker pairs (a t-interval over the pair figures' logs) and
    ``between_gradings_cv``: the spread between gradings that no single grading can
    observe (what else the machine was doing: a memory-heavy neighbour shifts a
    memory-bound submission's ratio for a whole grading).
    With one pair only the trials' spread is known: the distribution-free interval of
    the median of the trials' ratios, with its true coverage. ``block_sizes``: each
    pair's block length in trials (two runs; 2 when not given). ``drift_source``: where
    ``between_gradings_cv`` came from (harness.drift), named in ``ci_method``."""
    sizes = block_sizes or [2] * len(student_s)
    blocks = [(s, r, size) for s, r, size in zip(student_s, reference_s, sizes) if s]
    if not blocks or any(len(s) != len(r) for s, r, _ in blocks):
        raise ValueError("need the same, non-zero number of student and reference times in each pair")
    all_student = [t for s, _, _ in blocks for t in s]
    all_reference = [t for _, r, _ in blocks for t in r]
    pair_speedups = [pair_figure(s, r, size) for s, r, size in blocks]
    between = between_share(between_gradings_cv)  # its share of a regrade's half-width
    drift_words = (f", with {between_gradings_cv:.1%} between gradings" if between_gradings_cv else "") + (
        f" ({drift_source})" if drift_source and between_gradings_cv else "")
    if len(blocks) == 1:
        # One pair (a grading short of time): the trials' interval, each side widened in
        # quadrature by the spread between gradings, which one pair cannot see either.
        one = summarize_pairs(*blocks[0][:2])
        centre = math.log(one.speedup)
        low = centre - math.hypot(centre - math.log(one.ci_low), between)
        high = centre + math.hypot(math.log(one.ci_high) - centre, between)
        return BlockSummary(one.trials, one.student_median_s, one.reference_median_s, one.speedup, math.exp(low),
                            math.exp(high), one.ci_level,
                            "median of trial ratios, order-statistics interval" + drift_words, [one.speedup])
    logs = [math.log(value) for value in pair_speedups]
    centre = statistics.fmean(logs)
    half = math.hypot(math.sqrt(2) * t_quantile_975(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs)),
                      between)
    return BlockSummary(
        trials=len(all_student),
        student_median_s=statistics.median(all_student),
        reference_median_s=statistics.median(all_reference),
        speedup=math.exp(centre),
        ci_low=math.exp(centre - half),
        ci_high=math.exp(centre + half),
        ci_level=T_LEVEL,
        ci_method=f"regrade interval over {len(logs)} worker pairs (A B B A runs)" + drift_words,
        pair_speedups=pair_speedups,
    )


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc refuses more through mallopt on 64-bit


def steady_allocator() -> bool:
    """Keep this process's freed memory for reuse instead of giving it back to the kernel.

    The harness's own work between timed calls (fresh inputs, the output checks' temporaries,
    each 2-5 MB at the timed size) otherwise gets fresh zeroed pages from the kernel on every
    trial: glibc returns blocks above its mmap threshold at once. The workers get the same
    through their environment (TIMING_FACTS); the harness, started before any of this, sets it
    through mallopt. This changes no timed figure (the harness is not timed); it makes the
    trials cheaper. Returns whether glibc accepted both settings."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, 1 << 30))


@dataclass(frozen=True)
class TrialBudget:
    """How many timed trials to run: at least ``min_trials``, then more while the
    time spent stays under ``budget_s``, never more than ``max_trials``. The time spent
    is the trials' calls' CPU time (TrialRunner), so load on the machine changes the
    wall time a grading takes, not how many trials it gets.

    A 2-second naive loop stops at the minimum; a 2 ms solution gets the maximum.
    """

    budget_s: float
    min_trials: int
    max_trials: int

    def wants_more(self, trials_done: int, spent_s: float, count: int = 1) -> bool:
        """Whether to time ``count`` more trials (one, or a block of two runs: ``next_run``)."""
        if trials_done < self.min_trials:
            return True
        if trials_done + count > self.max_trials:
            return False
        per_trial = spent_s / trials_done
        return spent_s + count * per_trial <= self.budget_s


# Trials per run (the module's docstring): a fast solution's 8 trials per pair make two
# runs of 4, and one untimed call pair per side and run warms the first.
RUN_MAX = 4
# A student call pair (warm-up, CPU time) from which its runs start without an untimed
# call pair: the cold start (about a millisecond at the speed cell) is then about 1% of
# a call pair, and the extra call would cost the grading's time the most.
REWARM_LIMIT_S = 0.1


def next_run(budget: TrialBudget, trials: int, spent_s: float, length: int) -> int:
    """How many trials a pair's next run times (0: the pair is done), after ``trials``
    that cost ``spent_s``, in runs of ``length``. A block (two runs, each side first once)
    starts only if the budget has room for all of it, and once started it is finished,
    unless its first run cost more than twice what the estimate let in (a warm-up can
    look cheaper than the timed calls, e.g. a first call that returns at once); never past
    the maximum. While the minimum is not reached and no whole block fits, just the
    missing trials (outside every block, so outside the figure). Runs of one trial (slow
    code) go a trial at a time, as the budget allows."""
    room = budget.max_trials - trials
    if room <= 0:
        return 0
    if length == 1:  # slow code: a trial at a time, a lone one's order is a small part of it
        return 1 if budget.wants_more(trials, spent_s) else 0
    block = 2 * length
    if trials % block == length:  # a block's first run is done
        count = min(length, room)
        return count if spent_s + count * spent_s / trials <= 2 * budget.budget_s else 0
    if room >= block:
        return length if budget.wants_more(trials, spent_s, block) else 0
    return min(length, max(0, budget.min_trials - trials))


def run_length(budget: TrialBudget, trial_s: float) -> int:
    """Trials per run for a pair, from its budget and a trial's cost (both sides' warm-up
    call pairs, CPU time): the longest run, up to RUN_MAX, of which the pair can afford
    two (a block, each side once first). Slow code gets runs of one. For the reference,
    and a student whose runs start with an untimed call pair, the length changes how
    many of those there are, not how warm a timed call is."""
    affordable = budget.max_trials if trial_s <= 0 else min(budget.max_trials, int(budget.budget_s / trial_s))
    return max(1, min(RUN_MAX, affordable // 2))


# Why a grading's timing stopped starting worker pairs (the result's ``stopped_because``).
STOP_PRECISION = "precision reached"
STOP_BUDGET = "budget"
STOP_MAX_PAIRS = "max pairs"
STOP_DEADLINE = "deadline"
# The precision rule looks at the spread between fresh worker pairs, never at one pair's
# trials: a student could make the first trials of every process fast and steady, but not
# the figures of two fresh processes agree by luck. Two pairs at least, so df >= 1.
MIN_PAIRS_TO_STOP = 2
# Slowness (times slower than the reference) up to which the tight precision applies, and
# from which the loose one does; in between the wanted half-width grows log-linearly.
TIGHT_UP_TO, LOOSE_FROM = 2.0, 200.0
# Figures up to this slowness get every pair (timing.pairs), whatever their pairs' spread:
# they are ranked by a few per cent, where the spread between gradings is already as wide
# as the wanted precision, and their pairs are cheap.
EVERY_PAIR_UP_TO = TIGHT_UP_TO
# The least spread between fresh pairs' figures (standard deviation of their logs) that the
# stop test assumes: about the pair-to-pair spread measured on a quiet machine (TIMING_FACTS:
# 1.5% under bursty load). With two pairs the t-interval is proportional to the one observed
# difference, so two pairs that agree by luck would otherwise stop at once and undercover
# (Monte Carlo: 52-78% coverage among two-pair stops instead of 95%).
PAIR_SPREAD_FLOOR = 0.02


def _slowness(speedup: float) -> float:
    """Times slower than the reference."""
    return 1.0 / speedup if speedup > 0 else math.inf


def wanted_half_width(speedup: float, tight: float, loose: float) -> float:
    """The relative half-width of the regrade interval that ranking at this speed needs:
    ``tight`` for figures near the reference's or faster (where a class's best differ by a
    few per cent), ``loose`` for code LOOSE_FROM times slower or more (loop solutions,
    which differ from each other by factors), log-linear in the slowness between."""
    slowness = 1.0 / speedup if speedup > 0 else math.inf
    if slowness <= TIGHT_UP_TO or loose <= tight:
        return tight
    if slowness >= LOOSE_FROM:
        return loose
    share = math.log(slowness / TIGHT_UP_TO) / math.log(LOOSE_FROM / TIGHT_UP_TO)
    return tight * (loose / tight) ** share


def pair_spread_half_width(pair_speedups: list[float]) -> float:
    """The pair-spread share of a regrade interval's relative half-width, as the stop test
    reads it: summarize_blocks' t-interval over the pairs' figures' logs, their spread
    floored at PAIR_SPREAD_FLOOR (a lucky agreement of few pairs does not count)."""
    logs = [math.log(value) for value in pair_speedups]
    if len(logs) < 2:
        return math.inf
    spread = max(statistics.stdev(logs), PAIR_SPREAD_FLOOR)
    return math.expm1(math.sqrt(2) * t_quantile_975(len(logs) - 1) * spread / math.sqrt(len(logs)))


def between_share(between_gradings_cv: float) -> float:
    """The between-gradings spread's share of a regrade half-width (log scale), as in
    summarize_blocks: more pairs cannot shrink it."""
    return math.sqrt(2) * 1.96 * math.log1p(between_gradings_cv)


def half_width(summary: "BlockSummary") -> float:
    """A regrade interval's relative half-width: half its width on the log scale."""
    return math.expm1(math.log(summary.ci_high / summary.ci_low) / 2)


@dataclass(frozen=True)
class TimingPlan:
    """How a grading's timed trials are spread over fresh worker pairs, decided as the
    timing phase goes, from what its pairs cost and how precise their figures already are.

    Each pair gets an equal share of the trial budget (``budget_s``) and of the trial
    maximum, and at least its share of the trials still missing to ``min_trials`` (at
    least one). After each pair, once ``min_trials`` ran in at least MIN_PAIRS_TO_STOP
    pairs (``stop_reason``), no further pair starts when every timed function is precise
    enough (``precise``: slower than EVERY_PAIR_UP_TO, and its pairs' spread, floored at
    PAIR_SPREAD_FLOOR, within what the wanted half-width leaves beside the spread between
    gradings: ``precision`` near the reference's speed, ``precision_slow`` for loops), or when
    another pair would take the phase's timed trials past its cost limit: ``call_budget``
    times the student's own call pair, at least half of ``phase_s``, at most ``phase_s``; or
    when ``max_pairs`` ran. Costs are the CPU time of the timed trials' calls (both sides),
    never of warm-ups or untimed call pairs, whose cost a student controls unseen: a regrade
    on a busier machine gets the same plan, only later.

    Why this shape: a fresh pair costs a fixed start (two processes importing numpy, a
    warm-up) and each trial its calls. Fast code (within EVERY_PAIR_UP_TO of the
    reference's speed) is ranked by a few per cent and cheap to time: it gets every pair,
    by rule. A loop solution (a call pair of seconds) gets one trial per pair; two pairs
    stop only when their floored spread already fits (with Student's t at one degree of
    freedom, 12.7, a floor of 2% alone is about +-25%: only the loose precision for loops
    allows that), otherwise a third or fourth pair, as the cost limit allows. Where the
    spread between gradings alone is as wide as the wanted half-width, precision cannot
    stop the timing (the plan line says so): only the cost limit or ``max_pairs`` do. The
    floor makes a stop on a lucky agreement of few pairs rarer; it does not guarantee the
    interval's coverage for the pairs that do stop.
    """

    max_pairs: int
    min_trials: int  # in all
    max_trials: int  # in all
    budget_s: float  # CPU time of the timed trials' calls, in all
    phase_s: float  # CPU time of the phase's timed trials beyond which no further pair starts
    call_budget: float = 3.5  # the phase's cost limit in the student's own call pairs
    precision: float = 0.03  # wanted regrade half-width near the reference's speed
    precision_slow: float = 0.30  # ... LOOSE_FROM times slower or more

    def pair_budget(self, pairs_done: int, trials_done: int) -> TrialBudget:
        pairs_left = max(1, self.max_pairs - pairs_done)
        missing = max(0, self.min_trials - trials_done)
        minimum = max(1, -(-missing // pairs_left))
        maximum = max(minimum, min(-(-self.max_trials // self.max_pairs), self.max_trials - trials_done))
        if maximum > 1:
            maximum = max(minimum, maximum - maximum % 2)  # an even count: whole blocks of two runs of one
        return TrialBudget(self.budget_s / self.max_pairs, minimum, maximum)

    def cost_limit(self, call_pair_s: float) -> float:
        """The phase's timed trials' CPU time past which no further pair starts, for a student whose
        call pair (its timed calls, once each) costs ``call_pair_s``."""
        return min(self.phase_s, max(self.phase_s / 2, self.call_budget * call_pair_s))

    def wants_another_pair(self, pairs_done: int, trials_done: int, spent_s: float, last_pair_s: float,
                           call_pair_s: float = 0.0) -> bool:
        """By cost alone (``stop_reason`` adds the precision rule)."""
        if pairs_done >= self.max_pairs:
            return False
        if pairs_done == 0 or trials_done < self.min_trials or pairs_done < min(MIN_PAIRS_TO_STOP, self.max_pairs):
            return True
        return spent_s + last_pair_s <= self.cost_limit(call_pair_s)

    def stop_reason(self, pairs_done: int, trials_done: int, spent_s: float, last_pair_s: float,
                    call_pair_s: float, figures: list[tuple[float, float]], between_cv: float = 0.0) -> str:
        """'' to start another pair, else why not (STOP_*). ``figures``: each timed function's
        (speedup, pair-spread half-width: ``pair_spread_half_width``) over the pairs so far;
        ``between_cv``: the spread between gradings the interval allows for (``precise``)."""
        if pairs_done >= self.max_pairs:
            return STOP_MAX_PAIRS
        if pairs_done == 0 or trials_done < self.min_trials or pairs_done < MIN_PAIRS_TO_STOP:
            return ""
        if figures and all(self.precise(speedup, half, between_cv) for speedup, half in figures):
            return STOP_PRECISION
        if not self.wants_another_pair(pairs_done, trials_done, spent_s, last_pair_s, call_pair_s):
            return STOP_BUDGET
        return ""

    def wanted(self, speedup: float) -> float:
        return wanted_half_width(speedup, self.precision, self.precision_slow)

    def room(self, speedup: float, between_cv: float) -> float:
        """What the wanted half-width leaves the pairs' spread (log scale), beside the spread
        between gradings, which more pairs cannot shrink: sqrt(wanted^2 - between^2); 0 when
        the between-gradings spread alone is as wide (no number of pairs then reaches it)."""
        wanted, between = math.log1p(self.wanted(speedup)), between_share(between_cv)
        return math.sqrt(wanted ** 2 - between ** 2) if wanted > between else 0.0

    def precise(self, speedup: float, pair_half: float, between_cv: float = 0.0) -> bool:
        """Whether a function's figure is precise enough to stop: never within EVERY_PAIR_UP_TO
        of the reference's speed (every pair), else its pair spread (``pair_spread_half_width``)
        within the ``room`` the between-gradings spread leaves."""
        if _slowness(speedup) <= EVERY_PAIR_UP_TO:
            return False
        room = self.room(speedup, between_cv)
        return room > 0 and math.log1p(pair_half) <= room

    def out_of_reach(self, figures: list[tuple[str, float]], between_cv: float) -> str:
        """The plan line's note where the spread between gradings alone is as wide as a
        function's wanted half-width (not for figures within EVERY_PAIR_UP_TO: they get every
        pair anyway): precision could not stop it. ``figures``: (name, speedup)."""
        names = [name for name, speedup in figures
                 if _slowness(speedup) > EVERY_PAIR_UP_TO and not self.room(speedup, between_cv)]
        if not names:
            return ""
        return (f"no stop on precision for {', '.join(names)}: the spread between gradings ({between_cv:.1%}) alone "
                "makes its regrade interval as wide as ranking at its speed wants, so only the budget or the pair "
                "count could stop the timing")

    def stopped_early(self, trial_s: float, call_pair_s: float = 0.0) -> str:
        """Why fewer pairs than configured ran, when the cost limit stopped them."""
        limit = self.cost_limit(call_pair_s)
        if limit >= self.phase_s:
            return (f"a trial's calls took {trial_s:.2f} s, and another pair would have taken the timing phase's timed "
                    f"calls past timing.phase_s ({self.phase_s:g} s of CPU time)")
        return (f"a trial's calls took {trial_s:.2f} s, and another pair would have taken the timing phase's timed "
                f"calls past its budget ({limit:.3g} s of CPU time: timing.call_budget {self.call_budget:g} times "
                f"the student's call pair of {call_pair_s:.3g} s, at least half of timing.phase_s)")

    def precise_enough(self, pairs: int, figures: list[tuple[str, float, float]]) -> str:
        """Why the precision rule stopped the plan: each function's (name, speedup, half-width
        of its regrade interval)."""
        each = ", ".join(f"{name} +-{100 * half:.1f}% (wanted +-{100 * self.wanted(speedup):.1f}%)"
                         for name, speedup, half in figures)
        return (f"after {pairs} worker pairs every regrade interval was as narrow as ranking at its speed needs: "
                f"{each}")


def describe_plan(pairs: int, trials: int, own_warm_up: bool, stopped: str, own_warm_up_s: float,
                  run_trials: list[int] | None = None) -> str:
    """What the timing phase ran, and why, in one line of the result. ``run_trials``:
    each pair's run length (``run_length``)."""
    text = f"{trials} timed trial{'s' * (trials != 1)} in {pairs} worker pair{'s' * (pairs != 1)}"
    shortest, longest = min(run_trials or [1]), max(run_trials or [1])
    if longest > 1:
        lengths = f"{longest}" if shortest == longest else f"{shortest}-{longest}"
        text += f", each side timing runs of {lengths} trials in turn"
    if stopped:
        text += f"; {stopped}" if stopped.startswith("after ") else f"; fewer pairs than configured: {stopped}"
    if own_warm_up:
        text += (f"; a student call pair of {own_warm_up_s:g} s or more of CPU time was its own warm-up and "
                 "counted as a trial")
    return text
