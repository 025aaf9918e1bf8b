"""Points: the harness says which checks passed; the rubric says what each is worth.

A rubric group's points are split equally among its checks. Speed points, when the
rubric enables them, come from the measured ``speedup_vs_reference``.
"""

from __future__ import annotations

from grader.config import GradingConfig
from grader.result import Check, CheckStatus, FunctionTiming


def interval_label(timing: FunctionTiming) -> str:
    """'95% CI', or the interval's real level when it is another (96.09% over 9 trials, say)."""
    level = timing.ci_level if timing.ci_level is not None else 0.95
    return f"{level * 100:.4g}% CI"


def _share(config: GradingConfig, group: str, group_sizes: dict[str, int]) -> float:
    return config.rubric.points.get(group, 0.0) / group_sizes[group]


def score_checks(raw_checks: list[dict], config: GradingConfig) -> list[Check]:
    """Turn the harness's (or the plan's) check records into scored checks."""
    group_sizes: dict[str, int] = {}
    for raw in raw_checks:
        group_sizes[raw["group"]] = group_sizes.get(raw["group"], 0) + 1
    checks = []
    for raw in raw_checks:
        share = _share(config, raw["group"], group_sizes)
        passed = bool(raw["passed"])
        hidden = raw["id"].split("/")[1].startswith("hidden") if "/" in raw["id"] else False
        checks.append(Check(
            id=raw["id"], name=raw["name"], function=raw["function"], group=raw["group"],
            status=CheckStatus.PASSED if passed else CheckStatus.FAILED,
            score=share if passed else 0.0, max_score=share, message=raw["message"],
            visibility=config.rubric.hidden_visibility if hidden else "visible",
        ))
    return checks


def speed_checks(timings: list[FunctionTiming], config: GradingConfig) -> list[Check]:
    speed = config.rubric.speed
    if not speed.enabled:
        return []
    checks = []
    for timing in timings:
        fraction, message = 0.0, timing.reason or "not timed"
        if timing.measured and timing.speedup_vs_reference is not None:
            reached = [f for threshold, f in speed.thresholds if timing.speedup_vs_reference >= threshold]
            fraction = max(reached, default=0.0)
            message = (f"speedup vs the reference {timing.speedup_vs_reference:.3g}x "
                       f"({interval_label(timing)} {timing.ci_low:.3g} to {timing.ci_high:.3g}); earns {fraction:.0%} of the speed points")
        checks.append(Check(
            id=f"speed/{timing.function}", name=f"{timing.function} speed", function=timing.function,
            group=f"speed_{timing.function}",
            status=CheckStatus.PASSED if fraction > 0 else CheckStatus.FAILED,
            score=speed.points * fraction, max_score=speed.points, message=message,
        ))
    return checks
