"""Time `convgrade similarity` on a synthetic class (bench/synthetic_class.py) of N students.

    .venv/bin/python bench/bench_similarity.py --students 300 [--repeats 3]

Each repeat runs the whole command (loading every submission through the grader's loader,
fingerprinting, comparing every pair, writing the report) in this process; the median is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli
from synthetic_class import planted_copy, synthetic_class


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "class", Path(tmp) / "out"
        folder.mkdir()
        out.mkdir()
        texts = synthetic_class(args.students - 1, seed=2)
        for i, text in enumerate(texts):
            (folder / f"student{i:03d}.py").write_text(text)
        (folder / "copier.py").write_text(planted_copy(texts[7]))
        times = []
        for _ in range(args.repeats):
            cpu_before = _cpu_s()
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["similarity", str(out), "--submissions", str(folder)])
            times.append(time.perf_counter() - started)
            if result.exit_code:
                sys.exit(result.output)
            # CPU time too (this process and its tokenizing children): the wall time of a shared
            # machine says as much about the other users as about this code.
            print(f"{args.students} students: {times[-1]:.1f} s wall, {_cpu_s() - cpu_before:.1f} s CPU, load "
                  f"average {os.getloadavg()[0]:.1f} ({result.output.strip()})", flush=True)
        print(f"median of {args.repeats}: {statistics.median(times):.1f} s wall")


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
