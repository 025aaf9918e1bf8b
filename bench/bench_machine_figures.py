"""Do a grading's GFLOP/s and percent of peak agree with ``make bench``? (issue: speed feedback)

Each round runs bench/bench_reference.py's measurement for the strided reference at the
speed cell, then grades an example with the default configuration (process sandbox, speed
cell) and an empty machine cache, so the grading measures its machine figures itself. It
prints, per pass, the bench's and the grading's reference GFLOP/s and percent of peak and
their ratio (graded / bench), and beside them what the timed trials alone would give
(flops / the trials' median reference time: what gradings reported before the machine
figures, slower by the cost of alternating two workers on one core). Then the medians over
the rounds, with the load average. Exits 1 when a median ratio is off by more than 10%.
Both are timings on a possibly shared machine: run it quiet.

    python bench/bench_machine_figures.py [--rounds 3] [--submission submissions/examples/fast_strided.py]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.10
PASSES = ("forward", "backward")


# bench_reference.py's own measurement (its timing loop, its GEMMs, its environment), for
# the strided reference at the speed cell only: the other sizes and implementations take minutes.
BENCH_SPEED_CELL = """
import sys
sys.path.insert(0, {bench!r})
import bench_reference as bench
from threadpoolctl import threadpool_limits
with threadpool_limits(limits=1):
    bench.bench_size(bench.SIZES[0], ["strided"])
"""


def bench_figures() -> dict[str, dict[str, float]]:
    """pass -> {gflops, percent} for strided at the speed cell, as bench_reference.py prints them."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
    code = BENCH_SPEED_CELL.format(bench=str(ROOT / "bench"))
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env).stdout
    figures = {}
    for line in output.splitlines():
        if line.startswith("cs231n speed cell") and " strided " in line:
            # size (3 words), impl, pass, median ms, GFLOP/s, GEMM ms, ratio, ratio q1-q3, trials
            fields = line.split()
            figures[fields[4]] = {"gflops": float(fields[6]), "percent": 100 / float(fields[8])}
    if set(figures) != set(PASSES):
        raise SystemExit(f"bench_reference.py printed no speed-cell strided rows:\n{output}")
    return figures


def grading_figures(submission: Path) -> dict[str, dict[str, float]]:
    """pass -> {gflops, percent, trials_gflops} of the reference, from a grading that measures
    its machine figures itself (an empty machine cache of its own)."""
    from grader.grading.config import GradingConfig
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    with tempfile.TemporaryDirectory(prefix="bench-machine-") as folder:
        result = grade_submission(submission, get_sandbox("process"), GradingConfig(), seed=1,
                                  machine_cache_path=Path(folder) / "machine.json")
    figures = {t.function: {"gflops": t.reference_gflops, "percent": t.reference_percent_of_peak,
                            "trials_gflops": t.flops / t.reference_median_s / 1e9}
               for t in result.timing if t.measured}
    if set(figures) != set(PASSES):
        raise SystemExit(f"the grading timed {sorted(figures)} only: {[t.reason for t in result.timing]}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submission", type=Path, default=ROOT / "submissions" / "examples" / "fast_strided.py")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at the start {os.getloadavg()[0]:.2f}")
    header = (f"{'round':6s} {'pass':8s} {'bench GFLOP/s':>13s} {'graded':>7s} {'ratio':>6s} {'bench %peak':>11s} "
              f"{'graded':>7s} {'ratio':>6s} {'trials GFLOP/s':>14s} {'ratio':>6s} {'load':>5s}")
    print(header)
    rows: dict[str, list[dict[str, float]]] = {direction: [] for direction in PASSES}
    for round_number in range(1, args.rounds + 1):
        bench, graded = bench_figures(), grading_figures(args.submission)
        load = os.getloadavg()[0]
        for direction in PASSES:
            b, g = bench[direction], graded[direction]
            row = {"bench_gflops": b["gflops"], "gflops": g["gflops"], "gflops_ratio": g["gflops"] / b["gflops"],
                   "bench_percent": b["percent"], "percent": g["percent"], "percent_ratio": g["percent"] / b["percent"],
                   "trials_gflops": g["trials_gflops"], "trials_ratio": g["trials_gflops"] / b["gflops"], "load": load}
            rows[direction].append(row)
            print(_format(str(round_number), direction, row), flush=True)
    worst = 0.0
    for direction in PASSES:
        median = {name: statistics.median(row[name] for row in rows[direction]) for name in rows[direction][0]}
        print(_format("median", direction, median))
        worst = max(worst, abs(median["gflops_ratio"] - 1), abs(median["percent_ratio"] - 1))
    print(f"largest difference of a median ratio from 1: {worst:.1%} (allowed {TOLERANCE:.0%}); "
          f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if worst <= TOLERANCE else 1


def _format(label: str, direction: str, row: dict[str, float]) -> str:
    return (f"{label:7s}{direction:8s} {row['bench_gflops']:13.2f} {row['gflops']:7.2f} {row['gflops_ratio']:6.2f} "
            f"{row['bench_percent']:10.1f}% {row['percent']:6.1f}% {row['percent_ratio']:6.2f} "
            f"{row['trials_gflops']:14.2f} {row['trials_ratio']:6.2f} {row['load']:5.2f}")


if __name__ == "__main__":
    sys.exit(main())
