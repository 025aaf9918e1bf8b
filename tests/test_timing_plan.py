"""The timing plan through real gradings: trials spread over worker pairs by what they
cost, and the result saying what ran (the plan's arithmetic: test_timing_units)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from golden_text import plan_text

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

SEED = 20261128
HOSTILE = Path(__file__).resolve().parent / "hostile" / "submissions"


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
        assert plan_text(timing.plan) == ("3 timed trials in 3 worker pairs; a student call pair of 0 s or "
                                                     "more of CPU time was its own warm-up and counted as a trial")
        assert timing.timing_phase_s > 0


def test_past_min_trials_the_phase_limit_stops_adding_pairs(examples_dir):
    # One trial per pair (4 in all over 4 pairs); the limit cannot stop a pair before
    # min_trials (3) is reached, and stops the fourth.
    for timing in _grade(examples_dir, pairs=4, min_trials=3, max_trials=4, phase_s=1e-9):
        assert (timing.pairs, timing.trials) == (3, 3)
        assert timing.plan.startswith("3 timed trials in 3 worker pairs; fewer pairs than configured: a trial's calls "
                                      "took ")
        assert "timing.phase_s (1e-09 s of CPU time)" in timing.plan


# The harness in a child process whose wanted precision is any interval at all: the plan
# then stops at the first pair it may.
ANY_INTERVAL = """
import json, math, sys
from grader.harness import run, timing
from grader.harness.job import HarnessJob

timing.TimingPlan.wanted = lambda self, speedup: math.inf
timing.EVERY_PAIR_UP_TO = 0.0  # fast code too may stop on precision here
print(json.dumps(run.Run(HarnessJob.from_json(json.load(sys.stdin))).execute()["timing"]))
"""


def test_two_pairs_precise_enough_stop_the_timing_and_the_result_says_so(examples_dir, tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "fast_strided.py").write_text((examples_dir / "fast_strided.py").read_text())
    config = GradingConfig(hidden_cases=1, timing=TimingSettings(size="small", budget_s=0.2, warmup_s=0.0, pairs=4,
                                                                 min_trials=2, max_trials=8))
    job = config.harness_job(SEED) | {
        "submission_root": str(submission), "entry": "fast_strided.py", "uid_base": None, "isolate_namespaces": False,
        "scratch_parent": str(tmp_path), "timing_lock": None, "hide_paths": []}
    done = subprocess.run([sys.executable, "-c", ANY_INTERVAL], input=json.dumps(job), capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    for timing in json.loads(done.stdout):
        assert (timing["pairs"], timing["stopped_because"]) == (2, "precision reached")
        assert " timed trials in 2 worker pairs" in timing["plan"]
        assert ("; after 2 worker pairs every regrade interval was as narrow as ranking at its speed needs: forward "
                "+-") in timing["plan"]
        assert "(wanted +-inf%)" in timing["plan"]


def test_the_cost_limit_stops_after_two_pairs_and_says_so(examples_dir):
    for timing in _grade(examples_dir, pairs=4, min_trials=2, max_trials=8, phase_s=1e-9):
        assert (timing.pairs, timing.stopped_because) == (2, "budget")
        assert "fewer pairs than configured: a trial's calls took " in timing.plan


def test_fast_code_gets_every_pair_by_rule(examples_dir):
    # Figures within 2x of the reference's get every pair (EVERY_PAIR_UP_TO), however loose the
    # wanted precision (+-99% here, which three pairs of 8 trials meet: without the rule this
    # stopped on "precision reached" after 3 pairs) and with no drift allowed.
    config = GradingConfig(timing=TimingSettings(size="small", budget_s=1.0, warmup_s=0.05, pairs=4, min_trials=2,
                                                 max_trials=32, precision=0.99, precision_slow=0.99,
                                                 between_gradings_cv=0.0))
    result = grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), config, seed=SEED)
    for timing in result.timing:
        assert timing.speedup_vs_reference > 0.5
        assert (timing.pairs, timing.stopped_because) == (4, "max pairs")
        assert "fewer pairs" not in timing.plan and "after " not in timing.plan


def test_cpu_burnt_in_untimed_call_pairs_does_not_stop_the_timing_on_budget(examples_dir):
    # burn_untimed_repeats.py spins 0.5 s of CPU time on a repeated input: in its warm-up (one
    # case for all its calls) and wherever an untimed call pair reuses a timed case. With a cost
    # limit of 1 s (half of phase_s), counting that would stop it on "budget" after two pairs;
    # the budget counts the timed trials only, so it gets every pair, as the plain code does.
    config = GradingConfig(timing=TimingSettings(size="small", budget_s=0.2, warmup_s=0.05, pairs=4, min_trials=2,
                                                 max_trials=8, phase_s=2.0))
    plans = {}
    for path in (examples_dir / "fast_strided.py", HOSTILE / "burn_untimed_repeats.py"):
        result = grade_submission(path, get_sandbox("process"), config, seed=SEED)
        assert result.score == result.max_score
        plans[path.stem] = [(timing.call, timing.pairs, timing.stopped_because) for timing in result.timing]
    assert plans["fast_strided"] == [("forward", 4, "max pairs"), ("backward", 4, "max pairs")]
    assert plans["burn_untimed_repeats"] == plans["fast_strided"]


def _speed_cell(path, **timing):
    config = GradingConfig(hidden_cases=1, timing=TimingSettings(size="speed-cell", **timing))
    result = grade_submission(path, get_sandbox("process"), config, seed=SEED)
    assert result.score == result.max_score and all(t.measured for t in result.timing)
    return {t.call: t for t in result.timing}


def test_a_fast_start_in_every_process_does_not_stop_the_timing_on_it():
    # fast_then_slow.py is fast for its first calls at the timed size in each worker process,
    # then spins 30 ms in every forward. The wanted precision here is loose enough (+-99%) that
    # two pairs stop the timing: a plan that stopped on a precise-looking start would give it
    # the fast figure. Every pair times all its planned trials whatever they look like, and the
    # plan stops on the spread between pairs: the slow calls are timed in every pair, and the
    # figure is theirs.
    tricked = _speed_cell(HOSTILE / "fast_then_slow.py", precision=0.99, precision_slow=0.99)
    honest = _speed_cell(HOSTILE / "honest_control.py")
    forward = tricked["forward"]
    # Two pairs whose figures differ by more than ~7% (a busy machine) take a third.
    assert forward.stopped_because == "precision reached" and 2 <= forward.pairs < 4, (forward.pairs, forward.plan)
    per_pair = forward.trials // forward.pairs
    for pair in range(forward.pairs):
        times = forward.student_times_s[pair * per_pair:(pair + 1) * per_pair]
        assert sum(t >= 0.03 for t in times) >= 2, (pair, times)
    assert forward.speedup_vs_reference < 0.5 * honest["forward"].speedup_vs_reference
    assert forward.ci_high < honest["forward"].ci_low
