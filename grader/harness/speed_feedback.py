"""The harness's side of speed feedback: the machine figures (the reference's and a
same-shape product's steady GFLOP/s, measured once per host in the reference worker), the
GFLOP/s of each timed function, and the student worker's line profile, checked and capped.

Trusted figures (GFLOP/s, percent of peak) come from the harness's own clock and the
assignment pack's declared operation counts (``timed_flops``). The line profile comes
from the student's process, which can forge it: it is kept in its own block, labelled as
feedback, capped, its text cleaned, and nothing scores or ranks it.

Why absolute figures do not come from the timed trials: a trial's call runs right after
the other worker's call and the harness's own work on the same core, and starts with their
data in its caches. Measured at the speed cell (bench/bench_machine_figures.py), that made
the reference's calls take 1.3-1.45 times as long as the same code called back to back, as
make bench calls it, while the student-to-reference ratio, both sides paying alike, is
unchanged. So the absolute scale is measured as make bench measures it, reference and
product alternating back to back in the reference worker, once per host (the host keeps
it: grader.grading.machine_cache), and a student's GFLOP/s is that scale times the grading's speedup.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import time
from typing import Callable

from .text import clip

MACHINE_TRIALS = 15  # reference and product pairs (ABBA), as bench_reference.py's minimum for strided
MACHINE_WARMUP_S = 0.3  # each side, as bench_reference.py
MACHINE_REQUEST_S = 0.02  # each timed request repeats its call back to back for about this long
FIXED_COST_CALLS = 9  # null products, for the fixed cost of a request
# CPU seconds a profiled call may run before it is stopped: a loop's body repeats thousands of
# times in a second even under the profiler, which is all its shares need.
PROFILE_BUDGET_S = 0.5
MAX_PROFILE_LINES = 5


def measure_machine(reference_pair: Callable[[dict[str, int]], dict[str, float]],
                    product: Callable[[str, int], float], calls: tuple[str, ...]) -> dict:
    """Steady times of the reference and of the same-shape product, per pass.

    ``calls``: the pack's timed call names, in its order. ``reference_pair(repeats)``: the
    reference's calls in that order on fixed inputs, each called ``repeats[call]`` times back
    to back in one request; the CPU seconds of each request, net of a request's fixed cost.
    ``product(pass, repeat)``: one request of ``repeat`` products (a call's, or "none":
    computing nothing), its CPU seconds. Both run in the reference worker. Each request repeats its call for about
    MACHINE_REQUEST_S: what a call pays for following the harness's work and a switch of
    process on the core (its data and translations evicted), which make bench never pays,
    is then a small part of it. After a warm-up, reference and product requests alternate
    in ABBA order. Returns {pass: {reference_s, gemm_s, reference_percent_of_peak}} per
    call, the percentage being 100 / the median per-trial ratio reference / product
    (bench_reference.py's figure).
    """
    ones = {fn: 1 for fn in calls}
    warm_until = time.monotonic() + MACHINE_WARMUP_S
    while True:
        single = reference_pair(ones)
        single_product = {fn: product(fn, 1) for fn in calls}
        if time.monotonic() >= warm_until:
            break
    fixed = statistics.median(product("none", 1) for _ in range(FIXED_COST_CALLS))
    ref_repeat = {fn: max(1, math.ceil(MACHINE_REQUEST_S / single[fn])) for fn in calls}
    gemm_repeat = {fn: max(1, math.ceil(MACHINE_REQUEST_S / max(single_product[fn] - fixed, 1e-6)))
                   for fn in calls}
    reference = {fn: [] for fn in calls}
    gemm = {fn: [] for fn in calls}
    for trial in range(MACHINE_TRIALS):
        for side in (("reference", "product") if trial % 2 == 0 else ("product", "reference")):
            if side == "reference":
                times = reference_pair(ref_repeat)
                for fn in calls:
                    reference[fn].append(times[fn] / ref_repeat[fn])
            else:
                for fn in calls:
                    measured = product(fn, gemm_repeat[fn])
                    gemm[fn].append(max(measured - fixed, measured / 2) / gemm_repeat[fn])
    return {fn: {"reference_s": statistics.median(reference[fn]), "gemm_s": statistics.median(gemm[fn]),
                 "reference_percent_of_peak": 100 / statistics.median(r / g for r, g in zip(reference[fn], gemm[fn]))}
            for fn in calls}


def timed_calls(assignment: object) -> tuple[str, ...] | None:
    """The call names a pack's machine figures are keyed by (its CALLS, in order); None for a
    name no pack is registered under."""
    from .assignments import PACKS, get

    return tuple(call.name for call in get(assignment).CALLS) if assignment in PACKS else None


def valid_figures(figures: object, assignment: object) -> bool:
    """Whether ``figures`` has measure_machine's shape for ``assignment``'s pack (a row per
    call) with plausible values: what a cache file read back must satisfy before anything
    uses it."""
    calls = timed_calls(assignment)
    if calls is None or not isinstance(figures, dict) or set(figures) != set(calls):
        return False
    for row in figures.values():
        if not isinstance(row, dict) or set(row) != {"reference_s", "gemm_s", "reference_percent_of_peak"}:
            return False
        if _number(row["reference_s"], 1e-9, 1e3) is None or _number(row["gemm_s"], 1e-9, 1e3) is None:
            return False
        if _number(row["reference_percent_of_peak"], 1e-6, 1e4) is None:
            return False
    return True


def cached_figures(cached: object, identity: dict) -> dict | None:
    """A cached machine entry's figures if it was measured for exactly ``identity`` (host,
    CPU, numpy, BLAS, Python, assignment, size, reference code) and is well formed; else None."""
    if (not isinstance(cached, dict) or cached.get("identity") != identity
            or not valid_figures(cached.get("figures"), identity.get("assignment"))):
        return None
    return cached["figures"]


def code_digest(folder_files: list[tuple[str, bytes]]) -> str:
    """A digest of the reference's source files (name, content): a changed reference is
    another yardstick, and its figures are measured anew."""
    digest = hashlib.sha256()
    for name, content in sorted(folder_files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def describe_source(cached: dict | None) -> str:
    """Where a result's peak and reference figures came from (``cached``: the entry used), in one line."""
    if cached is not None:
        return (f"measured at {clip(str(cached.get('measured_at')), 40)} by an earlier grading on this host (same CPU, "
                "numpy, BLAS, Python and reference code), kept in the host's machine cache")
    return "measured in this grading: reference and same-shape product back to back in the reference worker"


def machine_figures(pack, function: str, size: str, speedup: float, machine: dict) -> dict:
    """GFLOP/s of reference, student and product, and the percentages of that peak. The
    reference's and the product's are the host's steady figures (``machine``); the student's
    are the reference's times the grading's speedup (reference time / student time)."""
    flops = pack.timed_flops(function, size)
    figures = machine[function]
    reference_gflops = flops / figures["reference_s"] / 1e9
    return {
        "flops": flops,
        "student_gflops": reference_gflops * speedup,
        "reference_gflops": reference_gflops,
        "peak_gflops": flops / figures["gemm_s"] / 1e9,
        "percent_of_peak": figures["reference_percent_of_peak"] * speedup,
        "reference_percent_of_peak": figures["reference_percent_of_peak"],
    }


def _number(value, low: float = 0.0, high: float = 1e12) -> float | None:
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        return None
    return float(value)


def clean_profile(raw: object, function: str, budget_s: float) -> dict | None:
    """The student worker's profile reply as a bounded, cleaned block, or None if malformed."""
    if not isinstance(raw, dict) or not isinstance(raw.get("lines"), list):
        return None
    total = _number(raw.get("total_s"))
    lines = []
    for item in raw["lines"][:MAX_PROFILE_LINES]:
        if not isinstance(item, dict):
            return None
        line, hits, loops = item.get("line"), item.get("hits"), item.get("loops")
        seconds = _number(item.get("seconds"))
        if type(line) is not int or type(hits) is not int or type(loops) is not int or seconds is None:
            return None
        if not (0 < line < 10**7 and 0 <= hits < 10**12 and 0 <= loops < 100):
            return None
        lines.append({
            "file": clip(str(item.get("file", "")), 300), "line": line,
            "function": clip(str(item.get("function", "")), 200), "text": clip(str(item.get("text", "")), 400),
            "hits": hits, "loops": loops, "seconds": seconds,
            "percent": 100 * seconds / total if total else 0.0,
        })
    return {"function": function, "lines": lines, "total_s": total or 0.0,
            "stopped": raw.get("stopped") is True, "budget_s": budget_s,
            "raised": clip(str(raw.get("raised") or ""), 200)}


def clean_observed(raw: object, function: str) -> list[dict]:
    """Forbidden calls the student worker's hook reported for one call, bounded and cleaned;
    and, when the hook was gone or not the grader's after the call, one item saying which
    ("hook": "removed" or "replaced", its name "hook removed" keeping it apart from calls)."""
    if not isinstance(raw, list):
        return []
    found, hook = [], []
    for item in raw[:21]:  # 20 calls and the hook's state
        if isinstance(item, dict) and item.get("hook") in ("removed", "replaced"):
            hook = [{"function": function, "module": "", "name": f"hook {item['hook']}", "file": "", "line": 0,
                     "count": 1, "hook": item["hook"]}]
            continue
        if not isinstance(item, dict) or type(item.get("line")) is not int or type(item.get("count")) is not int:
            continue
        found.append({"function": function, "module": clip(str(item.get("module", "")), 200),
                      "name": clip(str(item.get("name", "")), 200), "file": clip(str(item.get("file", "")), 300),
                      "line": max(0, min(item["line"], 10**7)), "count": max(0, min(item["count"], 10**9))})
    return hook + found[:20]
