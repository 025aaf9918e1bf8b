"""Finals reproducibility benchmark (not a test): finals run twice on one class, the second
with a memory-heavy neighbour on the other core in every other round.

    make bench-finals [SANDBOX=process|docker] [FINALS_ROUNDS=4]

The class: fast_strided and einsum_positions with variants that differ a little (the padding
call, np.dot for @, the order of a copy, ...): 11 correct students, all finalists. Both runs
take the same finalists (grade-all once, then `finals --top 11`), with different seeds, on one
slot (the last core); the neighbour (bench_grader's 64 MiB copy loop) runs on another core for
the whole of rounds 2, 4, ... of the second run.

Targets: the two finals orders agree except for pairs whose figures are within 2% of each
other; and the paired per-round ratios f_a,r / f_b,r have a CV under 1.5% for every pair of
finalists: both the median and the largest over all pairs are gated (printed per run with the
share of pairs under 1.5%, and the median over neighbouring finalists). A machine shared
with other work makes both worse: read them with the load average printed beside them.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

from grader.batch.finals import run_finals
from grader.batch.grade_all import grade_all
from grader.grading.config import GradingConfig, TimingSettings
from grader.publish.finals import Finals, round_figures
from grader.publish.finals_ranks import ratio_cv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grader import start_neighbour  # noqa: E402  (the same neighbour as bench-stability)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions" / "examples"
CV_TARGET, CLOSE = 0.015, 0.02

STRIDED_PAD = "x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))"
# (name, example, [(text, replacement)]): each a correct solution a little unlike its example.
VARIANTS = [
    ("strided_pad_list", "fast_strided", [(STRIDED_PAD, "x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "
                                                         "mode='constant')")]),
    ("strided_pad_zeros", "fast_strided", [(STRIDED_PAD, "x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))\n"
                                                          "    x_pad[:, :, pad:pad + H, pad:pad + W] = x")]),
    ("strided_dot", "fast_strided", [("w.reshape(F, -1) @ x_cols", "np.dot(w.reshape(F, -1), x_cols)")]),
    ("strided_db_sum", "fast_strided", [("db = dout.sum(axis=(0, 2, 3))", "db = np.sum(dout, axis=(0, 2, 3))")]),
    ("strided_dw_dot", "fast_strided", [("dw = (dout_mat @ x_cols.T)", "dw = np.dot(dout_mat, x_cols.T)")]),
    ("strided_copy", "fast_strided", [("out = np.ascontiguousarray(res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3))",
                                       "out = res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3).copy()")]),
    ("strided_reshape", "fast_strided", [("x_cols = np.ascontiguousarray(windows).reshape(",
                                          "x_cols = windows.reshape(")]),
    ("strided_two", "fast_strided", [(STRIDED_PAD, "x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])"),
                                     ("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=0).sum(axis=(1, 2))")]),
    ("einsum_pad_list", "einsum_positions", [("np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                                              "np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])")]),
]


def make_class(folder: Path) -> int:
    folder.mkdir(parents=True)
    for name in ("fast_strided", "einsum_positions"):
        (folder / f"{name}.py").write_text((EXAMPLES / f"{name}.py").read_text())
    for name, example, edits in VARIANTS:
        text = (EXAMPLES / f"{example}.py").read_text()
        for old, new in edits:
            assert old in text, (name, old)
            text = text.replace(old, new)
        (folder / f"{name}.py").write_text(text)
    return 2 + len(VARIANTS)


def run(class_dir: Path, out: Path, sandbox: str, config: GradingConfig, rounds: int, seed: int, top: int,
        core: int, neighbour_core: int | None) -> Finals:
    """Finals round by round (each call resumes and adds one), the neighbour on in even rounds."""
    finals = None
    for round_number in range(1, rounds + 1):
        neighbour = start_neighbour(neighbour_core, 3600) if neighbour_core is not None and round_number % 2 == 0 \
            else None
        try:
            finals = run_finals(out.parent.parent / "graded", out, sandbox_name=sandbox, config=config, top=top,
                                rounds=round_number, seed=seed, progress=False, cores=[core])
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()
    return finals


def cv_target(every: list[float]) -> tuple[bool, str]:
    """(met, the line saying so): the paired per-round ratio CV under the target for the
    median pair and for the largest, with the share of pairs under it."""
    median, largest = statistics.median(every), max(every)
    under = sum(cv < CV_TARGET for cv in every)
    met = median < CV_TARGET and largest < CV_TARGET
    return met, (f"paired CV target {CV_TARGET:.1%}: median {median:.2%}, largest {largest:.2%}, {under} of "
                 f"{len(every)} pairs ({under / len(every):.0%}) under it: {'met' if met else 'NOT met'}")


def report(name: str, finals: Finals) -> tuple[list[float], list[float]]:
    ids = [e.student_id for e in finals.entries]
    figures = round_figures(ids, finals.rounds)
    every = [cv for i, a in enumerate(ids) for b in ids[i + 1:] if (cv := ratio_cv(figures[a], figures[b])) is not None]
    neighbours = [cv for a, b in zip(ids, ids[1:]) if (cv := ratio_cv(figures[a], figures[b])) is not None]
    gradings = [g for r in finals.rounds for g in r.gradings]
    contended = sum(g.contended for g in gradings)
    print(f"\n{name}: {len(ids)} finalists, {len(finals.rounds)} rounds, seed {finals.seed}; "
          f"{contended} of {len(gradings)} gradings timed while other cores were busy")
    for entry in finals.entries:
        rounds = ", ".join(f"{f:.4f}" if f else "-" for f in figures[entry.student_id])
        figure = f"{entry.figure:.4f}" if entry.figure else "-"
        place = f"{entry.rank:>2} ({entry.rank_best}-{entry.rank_worst})" if entry.rank else f" - ({entry.reason})"
        print(f"  {place}  {entry.student_id:<18} {figure}  rounds: {rounds}")
    print(f"  paired per-round ratio CV: median {statistics.median(every):.2%}, largest {max(every):.2%} "
          f"(all {len(every)} pairs); neighbours in the order: median {statistics.median(neighbours):.2%}",
          flush=True)
    print(f"  {cv_target(every)[1]}", flush=True)
    return every, neighbours


def disagreements(first: Finals, second: Finals) -> list[tuple[str, str, float]]:
    """Pairs the two runs order differently whose figures differ by 2% or more (in either run)."""
    position = {e.student_id: i for i, e in enumerate(second.entries)}
    figure = {run: {e.student_id: e.figure for e in f.entries} for run, f in (("a", first), ("b", second))}
    wrong = []
    timed = [e for e in first.entries if e.figure and figure["b"].get(e.student_id)]
    for i, upper in enumerate(timed):
        for lower in timed[i + 1:]:
            if position[upper.student_id] < position[lower.student_id]:
                continue
            gaps = [abs(math.log(figure[r][upper.student_id] / figure[r][lower.student_id])) for r in ("a", "b")]
            if max(gaps) >= math.log(1 + CLOSE):
                wrong.append((upper.student_id, lower.student_id, math.exp(max(gaps)) - 1))
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="process", choices=("process", "docker"))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="the small input and a short timing phase: checks "
                        "that the benchmark runs, measures nothing worth reading")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    core, other = cores[-1], (cores[0] if len(cores) > 1 else None)
    config = GradingConfig()
    if args.quick:
        config = GradingConfig(timing=TimingSettings(size="small", budget_s=0.2, min_trials=3, max_trials=3,
                                                     warmup_s=0.0, pairs=2))
    with tempfile.TemporaryDirectory(prefix="bench-finals-") as folder:
        folder = Path(folder)
        students = make_class(folder / "class")
        print(f"sandbox {args.sandbox}, {students} students, {args.rounds} rounds, finals on core {core}, "
              f"neighbour on core {other}; load average before: {os.getloadavg()[0]:.2f}")
        grade_all(folder / "class", folder / "graded", sandbox_name=args.sandbox, config=config, progress=False)
        print(f"graded the class; load average {os.getloadavg()[0]:.2f}", flush=True)
        ok = True
        quiet = run(folder / "class", folder / "quiet" / "finals", args.sandbox, config, args.rounds, 1, students,
                    core, None)
        ok &= cv_target(report("run 1 (quiet)", quiet)[0])[0]
        print(f"load average: {os.getloadavg()[0]:.2f}", flush=True)
        busy = run(folder / "class", folder / "busy" / "finals", args.sandbox, config, args.rounds, 2, students,
                   core, other)
        ok &= cv_target(report("run 2 (neighbour in even rounds)", busy)[0])[0]
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    wrong = disagreements(quiet, busy)
    print(f"\norders: {len(wrong)} pair(s) ordered differently by the two runs with figures 2% or more apart"
          + "".join(f"\n  {a} / {b}: {gap:.1%} apart" for a, b, gap in wrong))
    ok &= not wrong
    print(f"\ntargets (orders agree beyond 2%; median and largest paired CV < {CV_TARGET:.1%}): "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
