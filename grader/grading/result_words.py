"""The one voice for results: every figure a person reads is worded here, so the terminal,
Gradescope, the service's pages and the boards say the same thing about the same figure.

Speed figures in words a student reads right: what the figure is against, and what the interval is.

    0.84x the reference's speed (96.09% interval 0.76-0.90)
    470x slower than the reference (96.09% interval 440-510x slower)

The interval's label comes from the level stored with the figure (``ci_level``), never
from a constant: the timing code decides the level, the words follow it. The what-if
section (a repaired copy's grade, outside the score) is worded here too.

Standard library only, read by attribute: the student kit ships this file as it is, and
reads a result's JSON through it (grader/grading/summary_text.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the student kit ships this file without the result model (grader/kit)
    from .result import FunctionTiming, GradeResult, LineProfile, WhatIf, WhatIfVariant

SPEED_MEANING = (
    "Speed is reference time / student time (CPU time of each call, over several worker pairs): "
    "\"0.80x the reference's speed\" means the reference runs 1.25 times as fast, and far below it the figure "
    "reads \"470x slower than the reference\"; above 1x is faster than the reference. The interval is its "
    "confidence interval, labelled with its level (\"95% interval\").")

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
    return describe_figure(timing.speedup_vs_reference, timing.ci_low, timing.ci_high, timing.ci_level)


def describe_figure(speedup: float, low: float | None, high: float | None, level: float | None) -> str:
    """'0.84x the reference's speed (96.09% interval 0.76-0.90)': the figure, then its interval
    when there is one. Every place that shows a speed (the terminal, Gradescope, /me, the
    boards) words it here, so a student reads the same sentence everywhere."""
    interval = describe_interval(speedup, low, high, level)
    return speed_words(speedup) + (f" ({interval})" if interval else "")


def speed_words(speedup: float) -> str:
    """'0.84x the reference's speed', or '470x slower than the reference' far below it."""
    if speedup < SLOWER_BELOW:
        return f"{figure(1 / speedup)}x slower than the reference"
    return f"{figure(speedup)}x the reference's speed"


def describe_interval(speedup: float, low: float | None, high: float | None, level: float | None) -> str:
    """'96.09% interval 0.76-0.90' (in the same terms as the figure: 'Nx slower' far below the
    reference), or '' when no interval was measured."""
    if low is None or high is None or low <= 0 or high <= 0:
        return ""
    label = interval_label(level)
    if speedup < SLOWER_BELOW:
        return f"{label} {figure(1 / high)}-{figure(1 / low)}x slower"
    return f"{label} {figure(low)}-{figure(high)}"


def summary_line(result: GradeResult) -> str:
    """One line for people: id, score, and each function's speed against the reference or why it has none."""
    parts = [f"{result.submission.id}: {result.score:g}/{result.max_score:g}"]
    if not result.gradable:
        parts.append("NOT GRADABLE")
    for timing in result.timing:
        parts.append(f"{timing.call} {describe_speed(timing) if timing.measured else 'not timed'}")
    return ", ".join(parts)


WHAT_IF_HEADING = "What-if feedback (not part of your score): "


def what_if_sentence(variant: WhatIfVariant, subject: str) -> str:
    """'With these 3 mechanical fixes, your {subject} would pass 30 of 37 checks: forward right, ...':
    one repaired copy's grade (the result's what_if.summary joins one per copy)."""
    count = len(variant.repairs) + variant.repairs_not_listed
    fixes = f"{count} mechanical {'fix' if count == 1 else 'fixes'}"
    lead = f"With {'this' if count == 1 else 'these'} {fixes}" if variant.label == "with these fixes" else \
        f"{variant.label[0].upper()}{variant.label[1:]} ({fixes})"
    if variant.error:
        return f"{lead}: {variant.error}."
    return f"{lead}, your {subject} would pass {variant.passed} of {variant.total} checks: {variant.verdict}."


def describe_what_if(what: WhatIf) -> str:
    """The section a student reads (Gradescope's output, the CLI, /me): the sentence, then each fix."""
    lines = [WHAT_IF_HEADING + what.summary]
    for variant in what.variants:
        if len(what.variants) > 1:
            lines.append(f"{variant.label[0].upper()}{variant.label[1:]}:")
        for repair in variant.repairs:
            where = f"lines {repair.line}-{repair.end_line}" if repair.end_line and repair.end_line != repair.line \
                else f"line {repair.line}"
            after = repair.after if repair.after else "(removed)"
            lines.append(f"  {repair.file} {where}: {repair.before}  ->  {after}")
        if variant.repairs_not_listed:
            lines.append(f"  ... and {variant.repairs_not_listed} more")
    return "\n".join(lines)
