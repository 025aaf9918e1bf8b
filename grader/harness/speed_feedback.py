"""The harness's side of speed feedback: the core's peak from the reference worker, the
GFLOP/s of each timed function, and the student worker's line profile, checked and capped.

Trusted figures (GFLOP/s, percent of peak) come from the harness's own clock and the
assignment pack's declared operation counts (``timed_flops``). The line profile comes
from the student's process, which can forge it: it is kept in its own block, labelled as
feedback, capped, its text cleaned, and nothing scores or ranks it.
"""

from __future__ import annotations

import math
import statistics

from .text import clip
from .workers import WorkerProcess

PEAK_CALLS = 9  # timed products per pass, after one untimed call that makes the operands
PROFILE_BUDGET_S = 2.0  # CPU seconds a profiled call may run before it is stopped
MAX_PROFILE_LINES = 5


def measure_peak(pack, reference: WorkerProcess, size: str, timeout_s: float) -> dict[str, float]:
    """Median CPU seconds of the same-shape matrix product(s) per pass, in the reference
    worker on the grading's core (the harness's clock, as for every timed call), less the
    median fixed cost of such a call (a call that computes nothing), never below half."""
    m, k, f = pack.same_shape_gemm(size)

    def median_of(kind: str) -> float:
        spec = {"m": m, "k": k, "f": f, "pass": kind}
        times = []
        for call in range(PEAK_CALLS + 1):
            outcome = reference.call(None, [{"value": spec}], [], {}, timeout_s, op="gemm")
            if not outcome.ok or outcome.cpu_s is None:
                raise RuntimeError(f"the reference worker failed the peak product: {outcome.message or outcome.error}")
            if call:  # the first made the operands
                times.append(outcome.cpu_s)
        return statistics.median(times)

    fixed = median_of("none")
    return {fn: max(median - fixed, median / 2) for fn in ("forward", "backward") for median in [median_of(fn)]}


def machine_figures(pack, function: str, size: str, student_s: float, reference_s: float, peak_s: float) -> dict:
    """GFLOP/s of student and reference, the product's, and the percentages of that peak."""
    flops = pack.timed_flops(function, size)
    return {
        "flops": flops,
        "student_gflops": flops / student_s / 1e9,
        "reference_gflops": flops / reference_s / 1e9,
        "peak_gflops": flops / peak_s / 1e9,
        "percent_of_peak": 100 * peak_s / student_s,
        "reference_percent_of_peak": 100 * peak_s / reference_s,
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
    """Forbidden calls the student worker's hook reported for one call, bounded and cleaned."""
    if not isinstance(raw, list):
        return []
    found = []
    for item in raw[:20]:
        if not isinstance(item, dict) or type(item.get("line")) is not int or type(item.get("count")) is not int:
            continue
        found.append({"function": function, "module": clip(str(item.get("module", "")), 200),
                      "name": clip(str(item.get("name", "")), 200), "file": clip(str(item.get("file", "")), 300),
                      "line": max(0, min(item["line"], 10**7)), "count": max(0, min(item["count"], 10**9))})
    return found
