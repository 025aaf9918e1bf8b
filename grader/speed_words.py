"""Speed figures in words a student reads right: what the figure is against, and what the interval is.

    0.84x the reference's speed (96.09% interval 0.76-0.90)
    470x slower than the reference (96.09% interval 440-510x slower)

The interval's label comes from the level stored with the figure (``ci_level``), never
from a constant: the timing code decides the level, the words follow it.
"""

from __future__ import annotations

from grader.result import FunctionTiming

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
