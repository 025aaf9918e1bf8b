"""The one check the host makes of a harness report before believing any of it: the shape of a
whole grading. Both the grading and the what-if grading of a repaired copy use it."""

from __future__ import annotations

from grader.grading.config import GradingConfig
from grader.errors import HarnessProtocolError
from grader.grading.result import FunctionTiming


def check_report_shape(report: dict, config: GradingConfig) -> None:
    """The host trusts one document, and only once it has the shape of a whole grading:
    every planned check, in order, and the blocks scoring reads. Anything else is the
    grader's failure (not gradable), never a smaller max_score or a traceback."""
    try:
        ids = [check["id"] for check in report["checks"]]
        report["import"]["ok"], report["sandboxing"], report["environment"]
        timed = [(row.layer, row.call) for row in (FunctionTiming(**raw) for raw in report["timing"])]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise HarnessProtocolError(f"harness report is incomplete ({type(exc).__name__}: {exc})") from exc
    plan = config.pack().check_plan(config.hidden_cases)
    planned = [identity["id"] for identity in plan]
    if ids != planned:
        raise HarnessProtocolError(f"harness report has {len(ids)} checks, not the {len(planned)} planned")
    # Scoring reads each check's call, function, layer and group: they must be the plan's.
    named = [{key: check.get(key) for key in identity} for check, identity in zip(report["checks"], plan)]
    if named != plan:
        wrong = next(check["id"] for check, identity in zip(named, plan) if check != identity)
        raise HarnessProtocolError(f"harness report names check {wrong!r} otherwise than the plan does")
    # A row per call of the pack, in its order (a bundle's: per call of each timed layer, none for
    # its other layers): scoring and boards look calls up by name.
    calls = [(pack.NAME, reported) for pack, _, reported in config.timed_calls()]
    if timed != calls:  # named by call alone: a bundle's call names already say their layer
        raise HarnessProtocolError(f"harness report times {[call for _, call in timed]}, "
                                   f"not the pack's calls {[call for _, call in calls]}")
