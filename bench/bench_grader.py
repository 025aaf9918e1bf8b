"""Grading benchmark (not a test): end-to-end time and the stability of the speed figure.

Grades a fast and a slower correct example REPEATS times each, alternating, with the
default configuration (the notebook's speed cell) and prints, per submission and
function: the median end-to-end wall time, the median speedup_vs_reference, its
coefficient of variation across regradings (target: under 5%), and whether every
regrading ordered the two submissions the same way.

    make bench-grader [SANDBOX=process|docker] [REPEATS=5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from grader.config import GradingConfig
from grader.grade import grade_submission
from grader.sandbox import get_sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
SUBMISSIONS = ("fast_strided", "einsum_positions")
CV_TARGET = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="process", choices=("process", "docker"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sandbox, config = get_sandbox(args.sandbox), GradingConfig()
    runs = {name: [] for name in SUBMISSIONS}
    for _ in range(args.repeats):
        for name in SUBMISSIONS:  # alternating, so load drifts hit both alike
            result = grade_submission(EXAMPLES / f"{name}.py", sandbox, config)
            if not result.gradable or result.score != result.max_score:
                print(f"{name}: unexpected result {result.score}/{result.max_score} ({result.failure})")
                return 1
            runs[name].append(result)

    print(f"sandbox {args.sandbox}, {args.repeats} regradings each, timed size: {runs[SUBMISSIONS[0]][0].timing[0].case}")
    print(f"{'submission':18} {'function':9} {'wall s':>7} {'speedup':>9} {'CV':>6} {'trials':>7}  per-run speedups")
    failed = False
    for name, results in runs.items():
        wall = statistics.median(r.wall_time_s for r in results)
        for index, function in enumerate(("forward", "backward")):
            speedups = [r.timing[index].speedup_vs_reference for r in results]
            cv = statistics.stdev(speedups) / statistics.mean(speedups) if len(speedups) > 1 else 0.0
            failed |= cv > CV_TARGET
            trials = statistics.median(r.timing[index].trials for r in results)
            print(f"{name:18} {function:9} {wall:7.2f} {statistics.median(speedups):9.4f} {cv:6.1%} {trials:7.0f}  "
                  + " ".join(f"{s:.4f}" for s in speedups))
    for index, function in enumerate(("forward", "backward")):
        same_order = all(a.timing[index].speedup_vs_reference > b.timing[index].speedup_vs_reference
                         for a, b in zip(*runs.values()))
        failed |= not same_order
        print(f"{function}: {SUBMISSIONS[0]} ranked above {SUBMISSIONS[1]} in every regrading: {same_order}")
    print(f"targets: CV < {CV_TARGET:.0%} and a stable order -> {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
