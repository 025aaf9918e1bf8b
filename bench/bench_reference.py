"""How close are the references to the machine's limit? (``make bench``)

For two sizes (the notebook's speed cell, and a mid-sized layer) this times the
forward and backward pass of each reference against a plain numpy GEMM of the
same shape, which is what an im2col convolution cannot beat:

    forward   (M, K) @ (K, F)                     M = N*H'*W', K = C*HH*WW
    backward  (M, F).T @ (M, K)  and  (M, F) @ (F, K)   (dw and the column gradient)

Reference and GEMM alternate trial by trial (ABBA order) after a warm-up, each
call timed by the process's CPU time (as the grader times calls), and
the ratio reported is the median of the per-trial ratios: on a shared machine,
load that comes in bursts hits both sides of a pair alike. Environment as in
the grader's timed processes (../shared/TIMING_FACTS.md): one BLAS thread, and
glibc's malloc thresholds raised so large temporaries are not handed fresh,
page-faulting memory on every call.

Exits 1 if the strided reference misses its targets at the notebook's speed
cell, the size students are timed at: forward ratio <= 1.4, backward ratio <= 1.2.
The other size is printed for comparison only. The GEMM is the (M, K) @ (K, F)
form the grader's percent of peak uses (grader/harness/peak_gemm.py); on this
kind of machine OpenBLAS runs the transposed form (F, K) @ (K, M) 15-20% faster,
and the reference's own per-image products are of that form.

    python bench/bench_reference.py [--quick]   # --quick: no naive loops at the large size
"""

from __future__ import annotations

import os
import sys

# numpy's BLAS reads these when it loads, so they must be set before the import.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

# glibc reads its malloc tunables once, at process start-up: setting them now
# would change nothing, so start again with them in the environment.
_MALLOC_TUNABLES = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
if __name__ == "__main__" and not _MALLOC_TUNABLES.keys() <= os.environ.keys():
    os.execve(sys.executable, sys.orig_argv, {**_MALLOC_TUNABLES, **os.environ})

import argparse  # noqa: E402
import functools  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

# Bench the reference/ next to this file, even when another checkout is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference import IMPLEMENTATIONS  # noqa: E402

FORWARD_TARGET = 1.4
BACKWARD_TARGET = 1.2
TARGET_SIZE = "cs231n speed cell"


class Size(NamedTuple):
    label: str
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    stride: int
    pad: int
    seed: int


SIZES = [
    Size("cs231n speed cell", (100, 3, 31, 31), (25, 3, 3, 3), stride=2, pad=1, seed=231),
    Size("64x16x32x32 k3x3 F32", (64, 16, 32, 32), (32, 16, 3, 3), stride=1, pad=1, seed=0),
]


class Budget(NamedTuple):
    """How long to time one implementation: warm-up, then trials until the budget is spent."""

    warmup_s: float
    budget_s: float
    min_trials: int
    max_trials: int


BUDGETS = {
    "strided": Budget(warmup_s=0.3, budget_s=3.0, min_trials=15, max_trials=201),
    "einsum": Budget(warmup_s=0.3, budget_s=3.0, min_trials=3, max_trials=21),
    # One call takes seconds: start-up effects are noise at that scale, and a
    # discarded warm-up call would double the bench's running time.
    "naive": Budget(warmup_s=0.0, budget_s=5.0, min_trials=1, max_trials=3),
}


class Timing(NamedTuple):
    subject_s: list[float]
    baseline_s: list[float]

    @property
    def ratios(self) -> np.ndarray:
        return np.array(self.subject_s) / np.array(self.baseline_s)


def time_interleaved(subject: Callable[[], object], baseline: Callable[[], object], budget: Budget) -> Timing:
    """Time subject and baseline alternately, in ABBA order, after a warm-up of each.

    A call's time is this process's CPU time, as the grader times a call (docs/timing.md): on
    a shared machine, time the core spent on other processes is not charged to either side
    (their cache traffic still is). The budget is wall time."""
    for call in (subject, baseline):
        warmup_end = time.perf_counter() + budget.warmup_s
        while time.perf_counter() < warmup_end:
            call()
    timing = Timing([], [])
    start = time.perf_counter()
    while len(timing.subject_s) < budget.min_trials or (
        time.perf_counter() - start < budget.budget_s and len(timing.subject_s) < budget.max_trials
    ):
        pair = [(subject, timing.subject_s), (baseline, timing.baseline_s)]
        for call, times in pair if len(timing.subject_s) % 2 == 0 else reversed(pair):
            began = time.process_time()
            call()
            times.append(time.process_time() - began)
    return timing


class Problem(NamedTuple):
    """One size's inputs, the GEMMs it is compared with, and its flop count."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray
    conv_param: dict
    forward_gemm: Callable[[], object]
    backward_gemms: Callable[[], object]
    forward_flops: int


def make_problem(size: Size) -> Problem:
    rng = np.random.RandomState(size.seed)  # the notebook's generator, for seed 231
    (N, C, H, W), (F, _, HH, WW) = size.x_shape, size.w_shape
    H_out = 1 + (H + 2 * size.pad - HH) // size.stride
    W_out = 1 + (W + 2 * size.pad - WW) // size.stride
    x, w, b = rng.randn(*size.x_shape), rng.randn(*size.w_shape), rng.randn(F)
    dout = rng.randn(N, F, H_out, W_out)
    M, K = N * H_out * W_out, C * HH * WW
    cols, w_mat, dout_mat, w_t = rng.randn(M, K), rng.randn(K, F), rng.randn(M, F), rng.randn(F, K)
    return Problem(
        x, w, b, dout, {"stride": size.stride, "pad": size.pad},
        forward_gemm=lambda: cols @ w_mat,
        backward_gemms=lambda: (dout_mat.T @ cols, dout_mat @ w_t),
        forward_flops=2 * M * K * F,
    )


class Row(NamedTuple):
    size: str
    name: str
    direction: str
    timing: Timing
    flops: int

    @property
    def ratio(self) -> float:
        return float(np.median(self.timing.ratios))

    def format(self) -> str:
        median_s = float(np.median(self.timing.subject_s))
        q1, q3 = np.percentile(self.timing.ratios, [25, 75])
        return (
            f"{self.size:22s} {self.name:8s} {self.direction:8s} {median_s * 1e3:11.2f} "
            f"{self.flops / median_s / 1e9:8.2f} {float(np.median(self.timing.baseline_s)) * 1e3:9.2f} "
            f"{self.ratio:9.2f}  {q1:7.2f}-{q3:<7.2f} {len(self.timing.subject_s):6d}"
        )


HEADER = (
    f"{'size':22s} {'impl':8s} {'pass':8s} {'median ms':>11s} {'GFLOP/s':>8s} {'GEMM ms':>9s} "
    f"{'ratio':>9s}  {'ratio q1-q3':15s} {'trials':>6s}"
)


def bench_size(size: Size, names: list[str]) -> list[Row]:
    problem = make_problem(size)
    rows = []
    for name in names:
        module, budget = IMPLEMENTATIONS[name], BUDGETS[name]
        forward = functools.partial(module.conv_forward, problem.x, problem.w, problem.b, problem.conv_param)
        _, cache = forward()
        backward = functools.partial(module.conv_backward, problem.dout, cache)
        for direction, subject, baseline, flops in (
            ("forward", forward, problem.forward_gemm, problem.forward_flops),
            ("backward", backward, problem.backward_gemms, 2 * problem.forward_flops),
        ):
            row = Row(size.label, name, direction, time_interleaved(subject, baseline, budget), flops)
            print(row.format(), flush=True)
            rows.append(row)
    return rows


def describe_environment() -> str:
    blas = [f"{p['internal_api']} {p.get('version')} threads={p['num_threads']}" for p in threadpool_info()]
    malloc = " ".join(f"{k}={os.environ.get(k)}" for k in _MALLOC_TUNABLES)
    return (
        f"numpy {np.__version__}; {'; '.join(blas)}; {malloc}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )


def verdicts(rows: list[Row]) -> list[tuple[str, bool]]:
    targets = {"forward": FORWARD_TARGET, "backward": BACKWARD_TARGET}
    return [
        (f"strided {row.direction:8s} at {row.size:22s} ratio {row.ratio:5.2f} <= {targets[row.direction]}",
         row.ratio <= targets[row.direction])
        for row in rows
        if row.name == "strided" and row.size == TARGET_SIZE
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the naive loops at the large size")
    args = parser.parse_args(argv)

    with threadpool_limits(limits=1):  # in case a BLAS ignored the variables above
        print(describe_environment())
        print(HEADER)
        rows = []
        for index, size in enumerate(SIZES):
            # Fastest first: the strided and GEMM warm-ups also warm up numpy itself.
            names = ["strided", "einsum"] + ([] if args.quick and index > 0 else ["naive"])
            rows += bench_size(size, names)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")

    print(f"\ntargets for strided at the {TARGET_SIZE}: forward <= {FORWARD_TARGET}x GEMM, "
          f"backward <= {BACKWARD_TARGET}x its two GEMMs (medians of interleaved trials; a busy machine moves them)")
    results = verdicts(rows)
    for text, passed in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for _, passed in results) else 1


if __name__ == "__main__":
    sys.exit(main())
