"""Do a grading's GFLOP/s and percent of peak agree with ``make bench``? (issue: speed feedback)

Runs bench/bench_reference.py's measurement for the strided reference at the speed cell,
then grades an example with the default configuration (process sandbox, speed cell) and
compares the result's reference figures (``reference_gflops``, ``reference_percent_of_peak``)
with the bench's (GFLOP/s, and 100 / ratio to its same-shape GEMM). Exits 1 when a figure
differs by more than 10%. Both are timings on a possibly shared machine: run it quiet.

    python bench/bench_machine_figures.py [--submission submissions/examples/fast_strided.py]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.10


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


def bench_figures() -> dict[str, tuple[float, float]]:
    """pass -> (GFLOP/s, percent of the same-shape GEMM) for strided at the speed cell."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
    code = BENCH_SPEED_CELL.format(bench=str(ROOT / "bench"))
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env).stdout
    figures = {}
    for line in output.splitlines():
        if line.startswith("cs231n speed cell") and " strided " in line:
            # size (3 words), impl, pass, median ms, GFLOP/s, GEMM ms, ratio, ratio q1-q3, trials
            fields = line.split()
            direction, gflops, ratio = fields[4], float(fields[6]), float(fields[8])
            figures[direction] = (gflops, 100 / ratio)
    if set(figures) != {"forward", "backward"}:
        raise SystemExit(f"bench_reference.py printed no speed-cell strided rows:\n{output}")
    return figures


def grading_figures(submission: Path) -> dict[str, tuple[float, float]]:
    from grader.config import GradingConfig
    from grader.grade import grade_submission
    from grader.sandbox import get_sandbox

    result = grade_submission(submission, get_sandbox("process"), GradingConfig(), seed=1)
    return {t.function: (t.reference_gflops, t.reference_percent_of_peak) for t in result.timing if t.measured}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submission", type=Path, default=ROOT / "submissions" / "examples" / "fast_strided.py")
    args = parser.parse_args()
    bench, graded = bench_figures(), grading_figures(args.submission)
    print(f"{'pass':8s} {'bench GFLOP/s':>14s} {'graded':>8s} {'bench % peak':>13s} {'graded':>8s}")
    worst = 0.0
    for direction in ("forward", "backward"):
        (b_gflops, b_peak), (g_gflops, g_peak) = bench[direction], graded[direction]
        worst = max(worst, abs(g_gflops / b_gflops - 1), abs(g_peak / b_peak - 1))
        print(f"{direction:8s} {b_gflops:14.2f} {g_gflops:8.2f} {b_peak:12.1f}% {g_peak:7.1f}%")
    print(f"largest relative difference {worst:.1%} (allowed {TOLERANCE:.0%}); load average "
          f"{os.getloadavg()[0]:.1f}: the bench times wall-clock, the grader CPU time, so under load only the "
          "percentages (ratios of two timings taken alike) can agree")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
