"""Speed figures in words a student reads right: what the figure is against, and what the interval is.

    0.84x the reference's speed (96.09% interval 0.76-0.90)
    470x slower than the reference (96.09% interval 440-510x slower)

The interval's label comes from the level stored with the figure (``ci_level``), never
from a constant: the timing code decides the level, the words follow it.
"""

from __future__ import annotations

from grader.grading.result import FunctionTiming, GradeResult, LineProfile

# Below this fraction of the reference's speed, "Nx slower" reads better than "0.002x its speed".
SLOWER_BELOW = 0.1


def figure(value: float) -> str:
    """Two significant digits, trailing zeros kept (0.90, 0.0021, 1.2, 12), whole numbers from 100 up."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:#.2g}".rstrip(".")


def interval_label(level: float | None) -> str:
    """'96.09% interval' for a level of 0.9609, '95% interval' for 0.95: the interval's real
    level, to four significant digits; 'interval' when none is recorded."""
    if level is None or not 0 < level < 1:
        return "interval"
    return f"{level * 100:.4g}% interval"


def describe_machine(gflops: float | None, percent_of_peak: float | None) -> str:
    """'0.42 GFLOP/s, 12% of this core's peak' (the peak: a same-shape matrix product), or ''."""
    if gflops is None or percent_of_peak is None:
        return ""
    return f"{figure(gflops)} GFLOP/s, {figure(percent_of_peak)}% of this core's peak"


PROFILE_HEADING = ("Where your time goes (a line profiler inside your own process, after the timed trials: "
                   "feedback only, never scored or ranked):")


def _loops(count: int) -> str:
    return "outside any loop" if count == 0 else f"inside {count} loop{'s' if count > 1 else ''}"


def _runs(hits: int) -> str:
    return "run once" if hits == 1 else f"run {hits:,} times"


def describe_profile(profile: LineProfile, top: int = 3) -> list[str]:
    """'forward: 78% in line 19: `out[n, f, i, j] = ...` (inside 4 loops, run 640,000 times)', per top line."""
    lines = [f"  {profile.function}: {line.percent:.0f}% in {line.file} line {line.line}: `{line.text}` "
             f"({_loops(line.loops)}, {_runs(line.hits)})" for line in profile.lines[:top]]
    if profile.stopped:
        lines.append(f"  {profile.function}: stopped after {profile.budget_s:g} s of CPU time under the profiler; "
                     "these shares cover the part of the call that ran")
    if profile.raised:
        lines.append(f"  {profile.function}: the profiled call raised {profile.raised}")
    return lines


def describe_timing(timing: FunctionTiming) -> str:
    """The speed against the reference, then against the machine when both were measured."""
    machine = describe_machine(timing.student_gflops, timing.percent_of_peak) if timing.measured else ""
    return describe_speed(timing) + (f"; {machine}" if machine else "")


def describe_speed(timing: FunctionTiming) -> str:
    """The measured figure with its interval; the reason when there is none."""
    if not timing.measured or timing.speedup_vs_reference is None:
        return timing.reason or "not timed"
    speedup, low, high = timing.speedup_vs_reference, timing.ci_low, timing.ci_high
    have_interval = low is not None and high is not None and low > 0 and high > 0
    label = interval_label(timing.ci_level)
    if speedup < SLOWER_BELOW:
        text = f"{figure(1 / speedup)}x slower than the reference"
        return text + (f" ({label} {figure(1 / high)}-{figure(1 / low)}x slower)" if have_interval else "")
    text = f"{figure(speedup)}x the reference's speed"
    return text + (f" ({label} {figure(low)}-{figure(high)})" if have_interval else "")


def summary_line(result: GradeResult) -> str:
    """One line for people: id, score, and each function's speed against the reference or why it has none."""
    parts = [f"{result.submission.id}: {result.score:g}/{result.max_score:g}"]
    if not result.gradable:
        parts.append("NOT GRADABLE")
    for timing in result.timing:
        parts.append(f"{timing.function} {describe_speed(timing) if timing.measured else 'not timed'}")
    return ", ".join(parts)
