"""Comparing a grading result with its golden file: what varies between runs of the same
file is masked (times, the host, the student's own profile) or read as one token.

Errors of correct float64 code sit at the level of rounding (1e-17 to 1e-14), and their
last digits depend on how numpy's SIMD loops meet the arrays' memory alignment, which
changes from run to run (an exact 0 is one of the outcomes). They say nothing about the
grader, so both sides show them as one token; a real error (1e-7 and up) keeps its digits.
"""

from __future__ import annotations

import re

ROUNDING_NOISE = re.compile(r"-?\d+(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3})"  # 1e-13 and below
                            r"|\b0\.0+e\+00\b"  # an exact zero, as messages print it
                            r'|(?<="rel_error": )0\.0\b')  # an exact zero, as a number


def comparable(text: str) -> str:
    return ROUNDING_NOISE.sub("<rounding>", text)


MASK = "<masked>"
MASKED_TIMING = ("trials", "student_median_s", "reference_median_s", "speedup_vs_reference", "ci_low", "ci_high",
                 "ci_level", "student_times_s", "reference_times_s", "pair_speedups", "call_overhead_s",
                 "student_gflops", "reference_gflops", "peak_gflops", "percent_of_peak", "reference_percent_of_peak",
                 "timing_phase_s", "other_cores_busy", "contended_pairs", "contention_wait_s", "redone_pairs",
                 "flops")  # null where no machine figures could be measured (a busy machine: speed_feedback)
# What the plan line says of a busy machine depends on what else ran (harness.contention).
BUSY_MACHINE = re.compile(r"; (other cores were busy|\d+ of \d+ kept pairs ran while).*$")
# Whether precision could stop the plan depends on the figure's speed and on this host's
# measured drift (TimingPlan.out_of_reach).
PRECISION_NOTE = re.compile(r"; no stop on precision for [^;]*")


def plan_text(plan: str) -> str:
    """A plan line without what depends on the machine (BUSY_MACHINE, PRECISION_NOTE)."""
    return PRECISION_NOTE.sub("", BUSY_MACHINE.sub("", plan))


def masked(result: dict) -> dict:
    # line_profiles: times from the student's process (their shape is tested in test_speed_feedback).
    result = dict(result, graded_at=MASK, wall_time_s=MASK, environment=MASK, line_profiles=MASK)
    result["timing"] = [{k: (MASK if k in MASKED_TIMING else plan_text(v) if k == "plan" and v else v)
                         for k, v in t.items()} for t in result["timing"]]
    return result
