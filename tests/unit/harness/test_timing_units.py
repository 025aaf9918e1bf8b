"""The timed quantity and the figure, as units: runs and their A B B A blocks, pairs and
the plan, the regrade interval, the steady allocator (the worker's CPU clock and memory read
from a real child: tests/test_timing_units.py)."""

from __future__ import annotations

import math
import statistics
from types import SimpleNamespace

import pytest

from grader.harness.call_outcome import CallOutcome
from grader.harness.trials import TrialRunner
from grader.harness.timing import (PAIR_SPREAD_FLOOR, STOP_BUDGET, STOP_MAX_PAIRS, STOP_PRECISION, TimingPlan,
                                   TrialBudget, block_ratios, describe_plan, half_width, next_run, pair_figure,
                                   pair_spread_half_width, run_length, steady_allocator, summarize_blocks,
                                   t_quantile_975, wanted_half_width)


def test_a_block_of_two_trials_cancels_which_side_ran_first():
    # Trials alternate A B B A: the side that runs second in a trial is 1.5x faster (its
    # worker's previous call was its own). Per-trial ratios flip between 1.5 and 1/1.5
    # around a true 1.0; each block of two trials gives exactly 1.0.
    student = [1.0, 1.5, 1.0, 1.5]   # first, second, first, second
    reference = [1.5, 1.0, 1.5, 1.0]
    assert [r / s for s, r in zip(student, reference)] == [1.5, 1 / 1.5, 1.5, 1 / 1.5]
    assert block_ratios(student, reference) == [1.0, 1.0]
    assert pair_figure(student, reference) == pytest.approx(1.0)
    # A block's ratio is a ratio of sums, not a mean of ratios.
    assert block_ratios([1.0, 3.0], [2.0, 2.0]) == [1.0]


def test_a_block_of_two_runs_cancels_which_side_ran_first():
    # Runs of 4: the student's run came first in trials 0-3, the reference's in trials 4-7.
    # Say the second side's first call is slower (1.5x here: a cold start the untimed call
    # pair did not fully warm): the reference's in trial 0, the student's in trial 4. A
    # block of two runs has each side once first, once second, so its ratio is exactly 1.0.
    student = [1.0, 1.0, 1.0, 1.0, 1.5, 1.0, 1.0, 1.0]
    reference = [1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert block_ratios(student, reference, block=8) == [1.0]
    assert pair_figure(student, reference, block=8) == pytest.approx(1.0)
    # Trials past the last whole block are left out; less than a block is all a pair has.
    assert block_ratios(student + [1.0, 1.0], reference + [3.0, 3.0], block=8) == [1.0]
    assert block_ratios([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], block=8) == [2.0]


def test_runs_are_as_long_as_a_pair_can_afford_two_of():
    fast = TrialBudget(budget_s=1.5, min_trials=1, max_trials=8)
    assert run_length(fast, 0.02) == 4  # 8 trials: two runs of 4
    assert run_length(TrialBudget(budget_s=1.5, min_trials=1, max_trials=4), 0.02) == 2
    assert run_length(fast, 0.25) == 3  # 6 trials affordable
    assert run_length(fast, 0.6) == 1  # slow code: a run of one, as before runs
    assert run_length(fast, 3.0) == 1
    assert run_length(fast, 0.0) == 4
    # A run is timed whole or not at all, within the budget and the maximum.
    assert fast.wants_more(4, 0.08, 4) and not fast.wants_more(8, 0.16, 4)
    assert fast.wants_more(3, 0.75, 3)  # 0.75 s spent, three more at 0.25 s: 1.5 s, the budget
    assert not TrialBudget(budget_s=1.4, min_trials=1, max_trials=8).wants_more(3, 0.75, 3)


def test_a_pair_times_whole_blocks_of_runs_and_never_passes_its_maximum():
    def pair(budget: TrialBudget, trial_s: float) -> list[int]:
        length, trials, counts = run_length(budget, trial_s), 0, []
        while count := next_run(budget, trials, trials * trial_s, length):
            trials += count
            counts.append(count)
        return counts

    assert pair(TrialBudget(budget_s=1.5, min_trials=1, max_trials=8), 0.02) == [4, 4]
    assert pair(TrialBudget(budget_s=0.5, min_trials=1, max_trials=8), 0.1) == [2, 2]  # no second block: 0.8 s
    assert pair(TrialBudget(budget_s=6.0, min_trials=3, max_trials=10), 0.02) == [4, 4]  # 2 left: no half block
    # The minimum asks for just the trials missing, never more than the maximum.
    assert pair(TrialBudget(budget_s=6.0, min_trials=5, max_trials=5), 0.02) == [2, 2, 1]
    assert pair(TrialBudget(budget_s=6.0, min_trials=9, max_trials=12), 0.02) == [4, 4, 1]
    assert pair(TrialBudget(budget_s=0.1, min_trials=3, max_trials=8), 0.5) == [1, 1, 1]  # slow code: one at a time
    # A block started is finished past the budget, unless its first run cost more than
    # twice the budget (a warm-up that looked cheap: a first call that returned at once).
    budget = TrialBudget(budget_s=1.5, min_trials=1, max_trials=8)
    assert next_run(budget, 4, 0.8, 4) == 4  # 1.6 s in all: past 1.5, within 3
    assert next_run(budget, 4, 8.0, 4) == 0


def test_an_odd_last_trial_is_left_out_but_a_lone_trial_counts():
    assert block_ratios([1.0, 1.0, 2.0], [2.0, 2.0, 3.0]) == [2.0]  # the third trial leans by its order
    assert pair_figure([1.0, 1.0, 2.0], [2.0, 2.0, 3.0]) == pytest.approx(2.0)
    assert block_ratios([2.0], [3.0]) == [1.5]  # slow code: one trial is all a pair has
    with pytest.raises(ValueError):
        block_ratios([], [])


def test_pairs_get_whole_blocks_where_there_is_room():
    plan = TimingPlan(max_pairs=2, min_trials=5, max_trials=10, budget_s=1.0, phase_s=100.0)
    assert (plan.pair_budget(0, 0).min_trials, plan.pair_budget(0, 0).max_trials) == (3, 4)  # not 5: a lone trial
    assert TimingPlan(max_pairs=3, min_trials=3, max_trials=3, budget_s=1.0, phase_s=100.0).pair_budget(0, 0).max_trials == 1


def test_several_pairs_give_a_regrade_interval_over_pair_figures():
    # Three pairs of two trials (one block each) whose figures are 1.0, 1.1 and 1.2.
    student = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    reference = [[0.9, 1.1], [1.0, 1.2], [1.1, 1.3]]
    summary = summarize_blocks(student, reference)
    logs = [math.log(v) for v in (1.0, 1.1, 1.2)]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 2)
    # The difference of two gradings' figures has twice one grading's variance: sqrt(2).
    half = math.sqrt(2) * 4.303 * sd / math.sqrt(3)
    assert summary.pair_speedups == pytest.approx([1.0, 1.1, 1.2])
    assert summary.speedup == pytest.approx(math.exp(mean))
    assert summary.ci_low == pytest.approx(math.exp(mean - half))
    assert summary.ci_high == pytest.approx(math.exp(mean + half))
    assert summary.ci_level == 0.95 and summary.trials == 6
    assert summary.ci_method == "regrade interval over 3 worker pairs (A B B A runs)"
    wider = summarize_blocks(student, reference, between_gradings_cv=0.02)
    assert wider.ci_low < summary.ci_low and wider.ci_high > summary.ci_high
    assert "2.0% between gradings" in wider.ci_method
    assert t_quantile_975(1) == 12.706 and t_quantile_975(100) == 1.96


def test_pairs_that_agree_still_get_the_between_gradings_spread():
    # Four pairs with the same figure: the pairs' spread is nil, and the interval is
    # sqrt(2) x 1.96 x log(1.015) either side, what another grading may still move.
    summary = summarize_blocks([[1.0, 1.0]] * 4, [[2.0, 2.0]] * 4, between_gradings_cv=0.015)
    half = math.sqrt(2) * 1.96 * math.log1p(0.015)
    assert summary.speedup == pytest.approx(2.0)
    assert summary.ci_low == pytest.approx(2.0 * math.exp(-half))
    assert summary.ci_high == pytest.approx(2.0 * math.exp(half))


def test_one_pair_keeps_the_order_statistics_interval_and_its_true_level():
    summary = summarize_blocks([[1.0] * 9], [[0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]])
    assert summary.speedup == pytest.approx(1.2)
    assert summary.ci_level == pytest.approx(0.9609, abs=1e-4)  # not 95%: 9 trials give 96.09%
    assert "order-statistics" in summary.ci_method


def test_pairs_must_match():
    with pytest.raises(ValueError):
        summarize_blocks([[1.0, 1.0]], [[1.0]])


def _simulate(plan: TimingPlan, trial_s: float, warm_up_s: float, own_warm_up_s: float = 1.0) -> list[int]:
    """The trials each pair runs under ``plan`` when every trial's calls take ``trial_s`` of CPU
    time (the student's nearly all of it: the cost limit counts in its call pairs) and a pair's
    warm-up ``warm_up_s`` (TimingPhase.time_functions and TrialRunner.run, without workers), by
    cost alone: a warm-up call pair as long as ``own_warm_up_s`` is the pair's first trial."""
    del warm_up_s  # not counted: a student controls what its untimed calls cost
    pairs: list[int] = []
    spent = last = 0.0
    while plan.wants_another_pair(len(pairs), sum(pairs), spent, last, trial_s):
        budget = plan.pair_budget(len(pairs), sum(pairs))
        own = trial_s >= own_warm_up_s
        trials = 1 if own else 0
        length = 1 if own else run_length(budget, trial_s)
        while count := next_run(budget, trials, trials * trial_s, length):
            trials += count
        pairs.append(trials)
        # The plan counts the timed trials only, never the warm-up (TrialRunner.timed_cpu_s).
        spent, last = spent + trials * trial_s, trials * trial_s
    return pairs


DEFAULT_PLAN = TimingPlan(max_pairs=4, min_trials=2, max_trials=32, budget_s=6.0, phase_s=15.0)


@pytest.mark.parametrize("trial_s, expected", [
    pytest.param(0.022, [8, 8, 8, 8], id="fast-code-every-pair-and-trial"),
    pytest.param(0.25, [6, 6, 6, 6], id="einsum-like-budget-per-pair"),
    pytest.param(0.6, [2, 2, 2, 2], id="slow-code-fewer-trials"),
    pytest.param(1.5, [1, 1, 1, 1], id="one-trial-per-pair-once-a-call-pair-is-its-own-warm-up"),
    pytest.param(2.5, [1, 1, 1], id="a-call-pair-of-seconds-gets-what-its-call-budget-allows"),
    pytest.param(4.0, [1, 1, 1], id="a-loop-gets-a-third-pair-only-when-two-are-not-precise-enough"),
    pytest.param(11.8, [1, 1], id="a-slow-loop-gets-two-fresh-pairs-within-phase_s"),
    pytest.param(40.0, [1, 1], id="two-pairs-hold-past-every-limit"),
])
def test_the_plan_spreads_trials_over_pairs_by_what_a_trial_costs(trial_s, expected):
    assert _simulate(DEFAULT_PLAN, trial_s, warm_up_s=max(trial_s, 0.1)) == expected


def test_the_cost_limit_stops_pairs_only_past_two_pairs_and_min_trials():
    plan = TimingPlan(max_pairs=4, min_trials=3, max_trials=32, budget_s=6.0, phase_s=15.0)
    assert plan.wants_another_pair(0, 0, 0.0, 0.0)
    assert plan.wants_another_pair(2, 2, 100.0, 50.0)  # min_trials not reached: the limit waits
    assert plan.wants_another_pair(3, 3, 5.0, 2.5, 0.2)  # 7.5 fits in half of phase_s
    assert not plan.wants_another_pair(3, 3, 5.0, 2.6, 0.2)
    assert plan.wants_another_pair(3, 3, 9.0, 6.0, 6.0)  # 3.5 call pairs of 6 s: 21 s, past phase_s: 15 s
    assert not plan.wants_another_pair(3, 3, 9.0, 6.5, 6.0)
    assert not plan.wants_another_pair(4, 32, 0.1, 0.1)  # every pair ran
    assert plan.cost_limit(0.01) == 7.5 and plan.cost_limit(3.0) == 10.5 and plan.cost_limit(11.8) == 15.0
    assert "timing.phase_s (15 s of CPU time)" in plan.stopped_early(6.5, 11.8)
    assert plan.stopped_early(3.1, 3.0) == (
        "a trial's calls took 3.10 s, and another pair would have taken the timing phase's timed calls past its budget "
        "(10.5 s of CPU time: timing.call_budget 3.5 times the student's call pair of 3 s, at least half of "
        "timing.phase_s)")


def test_wanted_precision_is_tight_near_the_reference_and_loose_for_loops():
    assert wanted_half_width(1.3, 0.03, 0.30) == 0.03  # faster than the reference
    assert wanted_half_width(0.5, 0.03, 0.30) == 0.03  # 2x slower
    assert wanted_half_width(1 / 20, 0.03, 0.30) == pytest.approx(0.03 * 10 ** 0.5)  # halfway on the log scale
    assert wanted_half_width(1 / 200, 0.03, 0.30) == 0.30
    assert wanted_half_width(1 / 900, 0.03, 0.30) == 0.30
    assert wanted_half_width(0.0, 0.03, 0.30) == 0.30


def test_timing_stops_on_precision_only_over_two_pairs_or_more():
    plan = TimingPlan(max_pairs=4, min_trials=2, max_trials=32, budget_s=6.0, phase_s=15.0)
    loops = [(1 / 500, 0.10), (1 / 400, 0.12)]  # +-10% and +-12%: enough among loops (+-30%)
    # One pair is never enough, however narrow its trials look: a student controls one process.
    assert plan.stop_reason(1, 8, 0.1, 0.1, 0.001, [(1.0, 0.001)]) == ""
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, loops) == STOP_PRECISION  # though a third pair fits
    # The same precision is not enough near the reference's speed: the cost limit decides.
    near = [(0.9, 0.10), (0.8, 0.12)]
    assert plan.stop_reason(2, 16, 0.6, 0.3, 0.01, near) == ""
    assert plan.stop_reason(3, 24, 7.3, 0.3, 0.01, near) == STOP_BUDGET
    # Within 2x of the reference's speed every pair runs, however narrow: by rule (EVERY_PAIR_UP_TO).
    assert plan.stop_reason(2, 16, 0.6, 0.3, 0.01, [(0.9, 0.001), (0.8, 0.001)]) == ""
    assert plan.stop_reason(3, 24, 0.9, 0.3, 0.01, [(0.9, 0.001), (0.8, 0.001)]) == ""
    # Just past 2x (wanted +-3.0% there) the pair spread alone decides, with no between-gradings term.
    assert plan.stop_reason(2, 16, 0.6, 0.3, 0.01, [(0.49, 0.029), (0.45, 0.03)]) == STOP_PRECISION
    # Every function must be precise enough; a loose loop forward does not stop a tight backward.
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, [(1 / 500, 0.10), (0.5, 0.10)]) == ""
    assert plan.stop_reason(4, 32, 1.0, 0.3, 0.01, near) == STOP_MAX_PAIRS
    # Not precise enough: another pair while it fits in 3.5 of the student's call pairs (a
    # third, not a fourth), at most phase_s.
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, [(1 / 500, 0.40), (1 / 400, 0.12)]) == ""  # 12.3 s of 14
    assert plan.stop_reason(3, 3, 12.3, 4.1, 4.0, [(1 / 500, 0.40), (1 / 400, 0.12)]) == STOP_BUDGET
    assert plan.stop_reason(2, 2, 16.0, 8.0, 8.0, [(1 / 500, 0.40), (1 / 400, 0.12)]) == STOP_BUDGET  # phase_s


def test_the_stop_test_floors_the_pair_spread_so_a_lucky_agreement_does_not_stop():
    # Two pairs that agree to 0.1%: their spread counts as PAIR_SPREAD_FLOOR (2%), so the
    # pair term is expm1(sqrt(2) * 12.706 * 0.02 / sqrt(2)) = 28.9% at two pairs.
    assert PAIR_SPREAD_FLOOR == 0.02
    assert pair_spread_half_width([0.010, 0.01001]) == pytest.approx(math.expm1(12.706 * 0.02))
    assert pair_spread_half_width([0.010, 0.01001, 0.01002]) == pytest.approx(
        math.expm1(math.sqrt(2) * 4.303 * 0.02 / math.sqrt(3)))
    # A spread above the floor is the spread itself.
    logs = [math.log(0.010), math.log(0.012)]
    assert pair_spread_half_width([0.010, 0.012]) == pytest.approx(
        math.expm1(math.sqrt(2) * 12.706 * statistics.stdev(logs) / math.sqrt(2)))
    assert pair_spread_half_width([0.010]) == math.inf
    plan = TimingPlan(max_pairs=4, min_trials=2, max_trials=32, budget_s=6.0, phase_s=15.0)
    lucky = [(1 / 500, pair_spread_half_width([1 / 500, 1 / 500.5]))]
    # Loops (wanted +-30%, 0.262 on the log scale): the floored pair term (0.254) fits beside 2%
    # between gradings (room 0.257), not beside 5% (room 0.225).
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, lucky) == STOP_PRECISION
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, lucky, between_cv=0.02) == STOP_PRECISION
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, lucky, between_cv=0.05) == ""
    slower = [(1 / 50, pair_spread_half_width([1 / 50, 1 / 50.05]))]  # wanted +-16.3% at 50x
    assert plan.stop_reason(2, 2, 8.2, 4.1, 4.0, slower) == ""


def test_the_stop_test_leaves_the_between_gradings_spread_out_of_the_pairs_room():
    plan = TimingPlan(max_pairs=4, min_trials=2, max_trials=32, budget_s=6.0, phase_s=15.0)
    wanted = math.log1p(0.30)
    between = math.sqrt(2) * 1.96 * math.log1p(0.05)
    assert plan.room(1 / 500, 0.05) == pytest.approx(math.sqrt(wanted ** 2 - between ** 2))
    inside, outside = math.expm1(plan.room(1 / 500, 0.05)) * 0.999, math.expm1(plan.room(1 / 500, 0.05)) * 1.001
    assert plan.stop_reason(3, 3, 8.2, 4.1, 4.0, [(1 / 500, inside)], between_cv=0.05) == STOP_PRECISION
    assert plan.stop_reason(3, 3, 8.2, 4.1, 4.0, [(1 / 500, outside)], between_cv=0.05) == ""
    # Where the between-gradings spread alone is as wide as the wanted half-width, no pair
    # spread stops it: only the cost limit or the pair count. 5% between gradings is +-14%.
    assert plan.room(1 / 20, 0.05) == 0.0  # wanted +-9.5% at 20x
    assert plan.stop_reason(3, 3, 0.3, 0.1, 0.1, [(1 / 20, 0.0)], between_cv=0.05) == ""
    assert plan.stop_reason(4, 4, 0.4, 0.1, 0.1, [(1 / 20, 0.0)], between_cv=0.05) == STOP_MAX_PAIRS
    assert plan.out_of_reach([("forward", 1 / 20), ("backward", 1 / 500)], 0.05) == (
        "no stop on precision for forward: the spread between gradings (5.0%) alone makes its regrade interval as "
        "wide as ranking at its speed wants, so only the budget or the pair count could stop the timing")
    # Figures within 2x get every pair anyway: no note for them.
    assert plan.out_of_reach([("forward", 0.9)], 0.05) == ""


def test_half_width_reads_a_regrade_interval():
    summary = summarize_blocks([[1.0, 1.0]] * 4, [[2.0, 2.0]] * 4, between_gradings_cv=0.02)
    assert half_width(summary) == pytest.approx(math.expm1(math.sqrt(2) * 1.96 * math.log1p(0.02)))


def test_min_and_max_trials_count_in_all():
    plan = TimingPlan(max_pairs=2, min_trials=3, max_trials=3, budget_s=0.2, phase_s=15.0)
    first = plan.pair_budget(0, 0)
    assert (first.min_trials, first.max_trials) == (2, 2)
    second = plan.pair_budget(1, 2)
    assert (second.min_trials, second.max_trials) == (1, 1)  # 3 in all, never 4
    one_pair = TimingPlan(max_pairs=1, min_trials=3, max_trials=41, budget_s=6.0, phase_s=15.0).pair_budget(0, 0)
    assert TimingPlan(max_pairs=1, min_trials=3, max_trials=41, budget_s=6.0, phase_s=15.0).stop_reason(
        1, 40, 1.0, 1.0, 0.01, []) == STOP_MAX_PAIRS
    assert (one_pair.min_trials, one_pair.max_trials, one_pair.budget_s) == (3, 40, 6.0)  # whole blocks


def test_the_plan_says_what_ran_and_why():
    assert describe_plan(4, 32, False, "", 1.0) == "32 timed trials in 4 worker pairs"
    assert describe_plan(4, 32, False, "", 1.0, [4] * 4) == ("32 timed trials in 4 worker pairs, each side timing "
                                                            "runs of 4 trials in turn")
    assert describe_plan(2, 9, True, "", 1.0, [1, 4]).startswith("9 timed trials in 2 worker pairs, each side timing "
                                                                 "runs of 1-4 trials in turn")
    text = describe_plan(2, 2, True, DEFAULT_PLAN.stopped_early(8.2, 8.0), 1.0)
    assert text.startswith("2 timed trials in 2 worker pairs; fewer pairs than configured: a trial's calls took 8.20 s")
    assert text.endswith("a student call pair of 1 s or more of CPU time was its own warm-up and counted as a trial")
    precise = DEFAULT_PLAN.precise_enough(2, [("forward", 1 / 500, 0.057), ("backward", 1 / 20, 0.063)])
    assert describe_plan(2, 2, True, precise, 1.0).startswith(
        "2 timed trials in 2 worker pairs; after 2 worker pairs every regrade interval was as narrow as ranking at "
        "its speed needs: forward +-5.7% (wanted +-30.0%), backward +-6.3% (wanted +-9.5%); a student call pair")


def test_the_harness_keeps_freed_memory_for_reuse():
    assert steady_allocator()  # glibc: both mallopt settings accepted (it refuses a threshold above 32 MiB)


def test_one_pair_interval_allows_for_the_spread_between_gradings_too():
    student, reference = [[1.0, 1.1, 0.9, 1.0, 1.05, 0.95]], [[2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    alone = summarize_blocks(student, reference)
    wider = summarize_blocks(student, reference, between_gradings_cv=0.05, drift_source="the constant floor")
    assert wider.speedup == alone.speedup
    between = math.sqrt(2) * 1.96 * math.log1p(0.05)
    centre = math.log(alone.speedup)
    assert math.log(wider.ci_low) == pytest.approx(centre - math.hypot(centre - math.log(alone.ci_low), between))
    assert math.log(wider.ci_high) == pytest.approx(centre + math.hypot(math.log(alone.ci_high) - centre, between))
    assert wider.ci_method == ("median of trial ratios, order-statistics interval, with 5.0% between gradings "
                               "(the constant floor)")


class _Worker:
    """A worker that answers every call in ``call_s`` of CPU time and every forget in ``forget_s``."""

    def __init__(self, call_s: float, forget_s: float):
        self.call_s, self.forget_s, self.forgotten = call_s, forget_s, []

    def call(self, request, timeout):
        return CallOutcome("ok", self.call_s, cpu_s=self.call_s)

    def forget(self, slots):
        self.forgotten.append(slots)
        return self.forget_s


def _runner(student: _Worker, reference: _Worker) -> TrialRunner:
    call = SimpleNamespace(name="forward", kept=("cache",), results=(), mutable=())
    pack = SimpleNamespace(REFERENCE_FUNCTIONS={"forward": "reference_forward"})
    context = SimpleNamespace(pack=pack, student=student, reference=reference, calls={"forward": call},
                              names={"forward": "conv_forward_naive"}, memory_bytes=1 << 30)
    return TrialRunner(context, ["forward"])


def _case(number: int):
    return SimpleNamespace(calls=("forward",), id=number, where="", arguments=lambda name, made: ([], {}))


def test_a_forget_is_charged_to_the_sides_next_timed_call_less_its_fixed_cost():
    # The student's cleanup code runs in its forget (0.5 s here): untimed, it would come right
    # before a timed call; it is charged to the student's next timed call pair instead.
    student, reference = _Worker(0.01, 0.5), _Worker(0.02, 0.001)
    runner = _runner(student, reference)
    runner.forget_overhead_s = 0.001
    times, _, _ = runner.one_call_pair("student", _case(1), 1.0)  # keeps its cache
    assert times == {"forward": 0.01} and student.forgotten == []
    times, _, _ = runner.one_call_pair("student", _case(2), 1.0)  # an untimed pair: carried on
    assert times == {"forward": 0.01} and student.forgotten == [["timing-cache-1"]]
    times, _, _ = runner.one_call_pair("student", _case(3), 1.0, timed=True)
    assert times == {"forward": pytest.approx(0.01 + 2 * 0.499)}
    times, _, _ = runner.one_call_pair("student", _case(4), 1.0, timed=True)
    assert times == {"forward": pytest.approx(0.01 + 0.499)}
    # The reference forgets after each call pair; its forget costs no more than the fixed cost.
    times, _, _ = runner.one_call_pair("reference", _case(4), 1.0, timed=True)
    assert times == {"forward": 0.02} and reference.forgotten == [["timing-cache-4"]]
    times, _, _ = runner.one_call_pair("reference", _case(5), 1.0, timed=True)
    assert times == {"forward": 0.02}


def test_the_profilers_kept_results_are_taken_once():
    student = _Worker(0.01, 0.0)
    runner = _runner(student, _Worker(0.02, 0.0))
    case = _case(7)
    runner.one_call_pair("student", case, 1.0, timed=True)
    assert runner.kept_for_profile() == (student, case, {"cache": "timing-cache-7"})
    assert runner.kept_for_profile() is None  # the runner holds no case (7 MB at the speed cell) once it is taken
    assert student.forgotten == []  # whoever took it forgets the slots
