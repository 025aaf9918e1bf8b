"""Batch benchmark (not a test): whole-class throughput and what parallel grading does to the speed figures.

Grades every example in submissions/examples with ``grade_all``: --jobs 1, --jobs 2,
then --jobs 1 again (default configuration, a fresh output folder each), and prints:

- submissions per minute for each run;
- for the fast correct examples (full marks, both functions timed, forward at least
  MIN_FAST_SPEEDUP of the reference), the forward and backward speedups with their
  confidence intervals under each run side by side, and whether each later run's
  figure lies inside the first run's interval and the other way round. The second
  jobs-1 run is the baseline: how far two runs differ when nothing changed.

With two jobs each grading is pinned to its own core, so the figures should agree;
if they do not, a grading is disturbed by its neighbour (shared caches, memory
bandwidth, the host's own work) and the default --jobs should be revisited.

Every run goes through the Dask executor: the --jobs runs use the default in-process
cluster; with --cluster (the default of ``make bench-batch``) one more run grades on a
real cluster on this machine, a ``dask scheduler`` and one ``convgrade worker`` per
core as separate processes, and its throughput is compared with the highest --jobs run
(target: within 10%).

With --class N it grades a class of N students instead, mixed like a real one: --loops
(default 60%) four-loop solutions (bench/synthetic_class.py, each distinct), the rest
vectorised (fast_strided, einsum_positions) and buggy examples, each file its own student.
One --jobs value grades at that count only.

    make bench-batch [SANDBOX=process|docker]
    python bench/bench_batch.py [--sandbox process] [--sandbox docker] [--jobs 1 --jobs 2] [--cluster]
    python bench/bench_batch.py --class 12 --jobs 2 --no-repeat
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.batch.executor import choose_cores
from grader.batch.grade_all import grade_all
from grader.batch.outputs import load_results
from grader.grading.config import GradingConfig
from grader.grading.result import GradeResult
from grader.grading.result_words import interval_label

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_class import synthetic_class  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
MIN_FAST_SPEEDUP = 0.05
VECTORISED = ("fast_strided", "einsum_positions")
BUGGY = ("bug_pad_slice", "bug_hout_both_axes", "bug_pad_hardcoded", "bug_square_kernel", "unfinished_none")


def class_mix(folder: Path, size: int, loop_share: float, seed: int = 3) -> dict[str, int]:
    """Write a class of ``size`` students into ``folder``: ``loop_share`` of them distinct
    four-loop solutions, of the rest two vectorised for one buggy (examples, each copy its own
    file, so its own seed). Returns the count of each kind."""
    folder.mkdir(parents=True)
    loops = round(size * loop_share)
    vectorised = round((size - loops) * 2 / 3)
    buggy = size - loops - vectorised
    for index, text in enumerate(synthetic_class(loops, seed=seed, four_loops_only=True)):
        (folder / f"loops_{index:03}.py").write_text(text)
    for kind, names, count in (("vectorised", VECTORISED, vectorised), ("buggy", BUGGY, buggy)):
        for index in range(count):
            name = names[index % len(names)]
            text = (EXAMPLES / f"{name}.py").read_text()
            (folder / f"{kind}_{index:03}_{name}.py").write_text(f"{text}\n# student {kind} {index}\n")
    return {"loops": loops, "vectorised": vectorised, "buggy": buggy}


def run(sandbox: str, jobs: int | None, config: GradingConfig, out: Path,
        scheduler: str | None = None, submissions: Path = EXAMPLES) -> tuple[float, dict[str, GradeResult]]:
    load_before = os.getloadavg()[0]
    summary = grade_all(submissions, out, sandbox_name=sandbox, config=config, jobs=jobs, force=True,
                        progress=False, scheduler=scheduler)
    if summary.counts["not_gradable"]:
        raise SystemExit(f"{sandbox} jobs {jobs}: {summary.counts['not_gradable']} not gradable; see {out}")
    results = {result.submission.id: result for result in load_results(out / "results")}
    per_minute = summary.counts["students"] / summary.wall_time_s * 60
    where = f"scheduler {scheduler}" if scheduler else f"jobs {summary.jobs} (cores {summary.cores})"
    print(f"{sandbox:8} {where}: {summary.counts['students']} submissions "
          f"in {summary.wall_time_s:6.1f} s = {per_minute:5.1f} submissions/min "
          f"(1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)")
    return per_minute, results


@contextlib.contextmanager
def local_cluster(sandbox: str, logs: Path):
    """A dask scheduler on loopback and one `convgrade worker` per usable core, each a
    separate process, as on separate hosts; yields the scheduler's address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    commands = [[sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard"]]
    commands += [[sys.executable, "-m", "grader", "worker", address, "--cores", str(core), "--sandbox", sandbox]
                 for core in choose_cores(None)[0]]
    processes = []
    try:
        for index, command in enumerate(commands):
            log = logs / f"cluster-{index}.log"
            with open(log, "wb") as stream:
                processes.append(subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
            if index == 0:
                time.sleep(2)
        deadline = time.monotonic() + 300  # a docker worker may build its image first
        worker_logs = [logs / f"cluster-{i}.log" for i in range(1, len(commands))]
        while not all("joined" in log.read_text() for log in worker_logs):
            if time.monotonic() > deadline:
                raise SystemExit(f"the workers did not join {address}; logs in {logs}")
            time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def is_fast_and_correct(result: GradeResult) -> bool:
    timings = {t.call: t for t in result.timing}  # the pack's call name; t.function is the student's
    return (result.gradable and result.score == result.max_score
            and all(t.measured for t in timings.values())
            and timings["forward"].speedup_vs_reference >= MIN_FAST_SPEEDUP)


def figure(result: GradeResult, function: str):
    return next(t for t in result.timing if t.call == function)


def compare(sandbox: str, runs: list[tuple[str, dict[str, GradeResult]]]) -> dict[str, bool]:
    """The side-by-side table; each later run's figure is checked against the first run's
    interval and the other way round. Returns, per later run, whether all figures agreed."""
    (label_a, a), later = runs[0], runs[1:]
    fast = sorted(i for i in a if is_fast_and_correct(a[i]) and all(i in r and is_fast_and_correct(r[i])
                                                                      for _, r in later))
    print(f"\n{sandbox}: speedup vs reference [interval] level (trials); 'in': inside the {label_a} interval / "
          f"{label_a} inside its interval")
    header = f"{'submission':18} {'function':9} {label_a:>30}" + "".join(
        f" {label:>30} {'in ' + label_a + ' / ' + label_a + ' in':>16}" for label, _ in later)
    print(header)
    print("-" * len(header))
    agree = {label: True for label, _ in later}
    for student_id in fast:
        for function in ("forward", "backward"):
            x = figure(a[student_id], function)
            line = f"{student_id:18} {function:9} {cell(x):>30}"
            for label, other in later:
                y = figure(other[student_id], function)
                y_in_x = x.ci_low <= y.speedup_vs_reference <= x.ci_high
                x_in_y = y.ci_low <= x.speedup_vs_reference <= y.ci_high
                agree[label] &= y_in_x and x_in_y
                line += f" {cell(y):>30} {yes(y_in_x) + ' / ' + yes(x_in_y):>16}"
            print(line)
    return agree


def print_widths(sandbox: str, runs: list[tuple[str, dict[str, GradeResult]]]) -> None:
    """Each run's median regrade half-width and worker pairs by kind of student (the fast
    correct ones, the other timed ones), and what stopped their timing."""
    for label, results in runs:
        kinds: dict[str, list] = {"fast": [], "slow": []}
        for result in results.values():
            if not result.gradable:
                continue
            kind = "fast" if is_fast_and_correct(result) else "slow"
            kinds[kind] += [t for t in result.timing if t.measured]
        for kind, rows in kinds.items():
            if not rows:
                continue
            halves = sorted((t.ci_high / t.ci_low) ** 0.5 - 1 for t in rows)
            pairs = sorted(t.pairs for t in rows)
            why = sorted({getattr(t, "stopped_because", "") or "-" for t in rows})
            print(f"{sandbox} {label}: {kind} figures ({len(rows)}): median half-width +-{100 * halves[len(halves) // 2]:.1f}%, "
                  f"median pairs {pairs[len(pairs) // 2]}, stopped: {', '.join(why)}")


def cell(t) -> str:
    level = interval_label(t.ci_level).split()[0]  # the interval's own level, not an assumed 95%
    return f"{t.speedup_vs_reference:.3f} [{t.ci_low:.3f}, {t.ci_high:.3f}] {level} ({t.trials})"


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", action="append", choices=("process", "docker"),
                        help="backend to benchmark; repeat for both (default: process)")
    parser.add_argument("--jobs", action="append", type=int, help="two job counts to compare (default: 1 and 2)")
    parser.add_argument("--config", type=Path, help="a grading configuration (default: the defaults); a quick "
                        "one smoke-tests this script")
    parser.add_argument("--cluster", action="store_true",
                        help="also grade on a scheduler + one `convgrade worker` per core, as separate processes")
    parser.add_argument("--no-repeat", dest="repeat", action="store_false",
                        help="skip the second run of the lower job count (the run-to-run baseline)")
    parser.add_argument("--class", dest="class_size", type=int, metavar="N",
                        help="grade a mixed class of N students (see --loops) instead of the examples")
    parser.add_argument("--loops", type=float, default=0.6, help="the class's share of loop solutions (default 0.6)")
    args = parser.parse_args()
    sandboxes = args.sandbox or ["process"]
    job_counts = args.jobs or [1, 2]
    if len(job_counts) not in (1, 2):
        parser.error("give one --jobs value, or two to compare")
    usable = len(choose_cores(None)[0])
    if max(job_counts) > usable:
        print(f"note: only {usable} usable cores; --jobs above that is lowered", file=sys.stderr)
    config = GradingConfig.load(args.config)
    with tempfile.TemporaryDirectory(prefix="convgrade-bench-batch-") as workdir:
        submissions = EXAMPLES
        if args.class_size:
            submissions = Path(workdir) / "class"
            counts = class_mix(submissions, args.class_size, args.loops)
            print(f"a class of {args.class_size}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ", "
                  f"default configuration ({config.config_hash()}), timed size {config.timing.size!r}\n")
        else:
            print(f"{len([p for p in EXAMPLES.iterdir() if not p.name.startswith('.')])} examples from {EXAMPLES}, "
                  f"default configuration ({config.config_hash()}), timed size {config.timing.size!r}\n")
        for sandbox in sandboxes:
            low, high = min(job_counts), max(job_counts)
            # low, high, low again: the repeat shows how far two runs differ with nothing changed.
            plan = [(f"jobs {low}", low)] if low == high else (
                [(f"jobs {low}", low), (f"jobs {high}", high)] + ([(f"jobs {low} again", low)] if args.repeat else []))
            rates, runs = {}, []
            for label, jobs in plan:
                rates[label], results = run(sandbox, jobs, config, Path(workdir) / label.replace(" ", "-"),
                                            submissions=submissions)
                runs.append((label, results))
            print_widths(sandbox, runs)
            if low == high:
                continue
            if args.cluster:
                label = f"scheduler + {usable} workers"
                with local_cluster(sandbox, Path(workdir)) as address:
                    rates[label], results = run(sandbox, None, config, Path(workdir) / "cluster", scheduler=address,
                                                submissions=submissions)
                runs.append((label, results))
            print(f"{sandbox}: jobs {high} grades {rates[f'jobs {high}'] / rates[f'jobs {low}']:.2f}x as many "
                  f"submissions per minute as jobs {low} (target: at least the thread pool's 1.64x)")
            if args.cluster:
                print(f"{sandbox}: {label} grades {rates[label] / rates[f'jobs {high}']:.2f}x as many submissions per "
                      f"minute as jobs {high} in-process (target: within 10%, 0.90x-1.10x)")
            agree = compare(sandbox, runs)
            for label, flag in agree.items():
                print(f"{sandbox}: every figure of '{label}' and 'jobs {low}' inside each other's interval: {yes(flag)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
