"""The timing plan through real gradings: trials spread over worker pairs by what they
cost, and the result saying what ran (the plan's arithmetic: test_timing_units)."""

from __future__ import annotations

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

SEED = 20261128


def _grade(examples_dir, **timing):
    config = GradingConfig(timing=TimingSettings(size="small", budget_s=0.2, warmup_s=0.0, **timing))
    result = grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), config, seed=SEED)
    assert result.score == result.max_score
    return result.timing


def test_a_long_first_call_pair_is_its_own_warm_up_and_the_first_trial(examples_dir):
    # Every call pair counts as long here (own_warm_up_s 0): each pair's warm-up call is its
    # one trial, so three trials in three pairs, and the result says so.
    for timing in _grade(examples_dir, pairs=3, min_trials=3, max_trials=3, own_warm_up_s=0.0):
        assert (timing.measured, timing.pairs, timing.trials) == (True, 3, 3)
        assert len(timing.student_times_s) == len(timing.reference_times_s) == 3
        assert timing.ci_method.startswith("regrade interval over 3 worker pairs")
        assert timing.plan == ("3 timed trials in 3 worker pairs; a student call pair of 0 s or more of CPU time "
                               "was its own warm-up and counted as a trial")
        assert timing.timing_phase_s > 0


def test_past_min_trials_the_phase_limit_stops_adding_pairs(examples_dir):
    # One trial per pair (4 in all over 4 pairs); the limit cannot stop a pair before
    # min_trials (3) is reached, and stops the fourth.
    for timing in _grade(examples_dir, pairs=4, min_trials=3, max_trials=4, phase_s=1e-9):
        assert (timing.pairs, timing.trials) == (3, 3)
        assert timing.plan.startswith("3 timed trials in 3 worker pairs; fewer pairs than configured: a trial's calls "
                                      "took ")
        assert "timing.phase_s (1e-09 s of CPU time)" in timing.plan
