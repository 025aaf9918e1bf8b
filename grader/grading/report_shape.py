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
    planned = [identity["id"] for identity in config.pack().check_plan(config.hidden_cases)]
    if ids != planned:
        raise HarnessProtocolError(f"harness report has {len(ids)} checks, not the {len(planned)} planned")
    # A row per call of the pack, in its order (a bundle's: per call of each timed layer, none for
    # its other layers): scoring and boards look calls up by name.
    calls = [(pack.NAME, reported) for pack, _, reported in config.timed_calls()]
    if timed != calls:
        raise HarnessProtocolError(f"harness report times {timed}, not the pack's calls {calls}")
