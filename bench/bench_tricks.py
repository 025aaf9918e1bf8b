"""Timing tricks against their honest twins (not a test): how much each trick gains.

Each hostile submission of tests/hostile that tries to game the timing is graded
alternately with the same code without the trick (A B B A, ROUNDS times), with the
default configuration (the notebook's speed cell). Prints the median figure of each,
and the gain (trick / twin - 1) per function. Target: at most +5% for every trick.

    make bench-tricks [SANDBOX=process|docker] [ROUNDS=2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from grader.grading.config import GradingConfig
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

HOSTILE = Path(__file__).resolve().parents[1] / "tests" / "hostile" / "submissions"
TRICKS = [
    ("steal_reference_cpu", "steal_reference_cpu_twin"),
    ("output_in_arena", "output_in_arena_twin"),
    ("copy_out_does_work", "copy_out_does_work_twin"),
    ("sleep_in_call", "honest_control"),
    ("io_uring_sqpoll", "honest_control"),
]
GAIN_TARGET = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="process", choices=("process", "docker"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sandbox, config = get_sandbox(args.sandbox), GradingConfig()
    ok = True
    print(f"{'trick':22} {'function':9} {'trick x':>8} {'twin x':>8} {'gain':>7}")
    for trick, twin in TRICKS:
        figures = {trick: [], twin: []}
        for _ in range(args.rounds):
            for name in (trick, twin, twin, trick):
                result = grade_submission(HOSTILE / f"{name}.py", sandbox, config)
                if not all(t.measured for t in result.timing):
                    print(f"{name}: not timed: {[t.reason for t in result.timing]}")
                    return 1
                figures[name].append({t.function: t.speedup_vs_reference for t in result.timing})
        for function in ("forward", "backward"):
            attack = statistics.median(f[function] for f in figures[trick])
            honest = statistics.median(f[function] for f in figures[twin])
            gain = attack / honest - 1
            ok &= gain <= GAIN_TARGET
            print(f"{trick:22} {function:9} {attack:8.4f} {honest:8.4f} {gain:+7.1%}")
    print(f"target: every gain <= {GAIN_TARGET:+.0%} -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
