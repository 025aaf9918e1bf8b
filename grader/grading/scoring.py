"""Points: the harness says which checks passed; the rubric says what each is worth.

- A rubric group's points are split equally among its checks.
- A *property* group (the pack's ``PROPERTY_GROUPS``, e.g. "inputs unchanged") earns its
  points only when at least one call it covers returned a correct output. Code that
  crashes on every call, returns garbage or does nothing leaves its inputs unchanged
  too; it earns nothing for that. The check then fails with a message that says why.
- Speed points, when the rubric enables them, come from the measured ``speedup_vs_reference``.

Points stay exact: a check's score is the nearest float to its exact share (40/12 ->
3.3333333333333335), and every total is summed exactly and rounded once, at the edge
(``total``), so twelve thirds of 40 add up to 40, never 40.00000000000001.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from grader.grading.config import GradingConfig
from grader.harness.assignments.layer import is_hidden_check
from grader.grading.result import Check, CheckStatus, FunctionTiming
from grader.grading.result_words import describe_speed

SCORE_DECIMALS = 6


def total(values: Iterable[float]) -> float:
    """The sum of check scores, exact, rounded once to SCORE_DECIMALS decimals.

    ``math.fsum`` is the correctly rounded sum of the floats (no error builds up over the
    checks), so its distance to the rubric's exact total is a few units in the last place,
    which the rounding removes."""
    return round(math.fsum(values), SCORE_DECIMALS) + 0.0  # + 0.0: never -0.0


def _exact(value: float) -> Fraction:
    """A configured number as the decimal the course wrote (0.1 is 1/10, not its binary neighbour)."""
    return Fraction(repr(float(value)))


def _covered_calls_correct(raw_checks: list[dict], calls: tuple[str, ...], property_groups: dict) -> bool:
    return any(raw["passed"] for raw in raw_checks
               if raw["call"] in calls and raw["group"] not in property_groups)


def _unearned_property_message(raw: dict, calls: tuple[str, ...], student_functions: dict[str, str]) -> str:
    names = " or ".join(dict.fromkeys(student_functions[call] for call in calls))  # a function may serve several calls
    return (f"{raw['message']}; but no call of {names} returned a correct output, and this check earns its points "
            "only alongside at least one correct answer (code that crashes or returns nothing changes no input either)")


def score_checks(raw_checks: list[dict], config: GradingConfig) -> list[Check]:
    """Turn the harness's (or the plan's) check records into scored checks."""
    group_sizes: dict[str, int] = {}
    for raw in raw_checks:
        group_sizes[raw["group"]] = group_sizes.get(raw["group"], 0) + 1
    pack = config.pack()
    checks = []
    for raw in raw_checks:
        share = float(_exact(config.rubric.points.get(raw["group"], 0.0)) / group_sizes[raw["group"]])
        passed, message = bool(raw["passed"]), raw["message"]
        covered = pack.PROPERTY_GROUPS.get(raw["group"])
        if passed and covered is not None and not _covered_calls_correct(raw_checks, covered, pack.PROPERTY_GROUPS):
            passed, message = False, _unearned_property_message(raw, covered, pack.STUDENT_FUNCTIONS)
        hidden = is_hidden_check(raw["id"])
        checks.append(Check(
            id=raw["id"], name=raw["name"], call=raw["call"], function=raw["function"], layer=raw["layer"],
            group=raw["group"],
            status=CheckStatus.PASSED if passed else CheckStatus.FAILED,
            score=share if passed else 0.0, max_score=share, message=message,
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
            message = f"{describe_speed(timing)}; earns {fraction:.0%} of the speed points"
        checks.append(Check(
            id=f"speed/{timing.call}", name=f"{timing.call} speed", call=timing.call, function=timing.function,
            layer=timing.layer, group=f"speed_{timing.call}",
            status=CheckStatus.PASSED if fraction > 0 else CheckStatus.FAILED,
            score=float(_exact(speed.points) * _exact(fraction)), max_score=float(speed.points), message=message,
        ))
    return checks
