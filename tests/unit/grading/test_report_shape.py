"""The host believes a harness report only once it has a whole grading's shape: the planned
checks in order, each named as the plan names it (scoring reads call, function, layer and
group), and a timing row per call of the pack."""

from __future__ import annotations

import pytest

from grader.errors import HarnessProtocolError
from grader.grading.config import GradingConfig
from grader.grading.report_shape import check_report_shape


def report(config: GradingConfig) -> dict:
    pack = config.pack()
    return {"import": {"ok": True}, "sandboxing": {}, "environment": {},
            "checks": [{**identity, "passed": True, "message": ""} for identity in pack.check_plan(config.hidden_cases)],
            "timing": [{"call": call.name, "function": pack.STUDENT_FUNCTIONS[call.name], "layer": pack.NAME,
                        "measured": False, "case": "small"} for call in pack.CALLS]}


@pytest.mark.parametrize("assignment", ["cs231n-conv", "cs231n-maxpool"])
def test_a_whole_report_is_believed(assignment):
    config = GradingConfig(assignment=assignment, hidden_cases=2)
    check_report_shape(report(config), config)


@pytest.mark.parametrize("field, value", [("call", "backward"), ("function", "conv_backward_naive"),
                                          ("layer", "cs231n-maxpool"), ("group", "inputs_unchanged")])
def test_a_check_named_otherwise_than_the_plan_is_refused(field, value):
    config = GradingConfig(hidden_cases=2)
    document = report(config)
    document["checks"][0][field] = value
    with pytest.raises(HarnessProtocolError, match="names check 'forward/notebook-forward' otherwise"):
        check_report_shape(document, config)


def test_timing_rows_must_be_the_packs_calls_in_order():
    config = GradingConfig(hidden_cases=2)
    document = report(config)
    document["timing"].reverse()
    with pytest.raises(HarnessProtocolError, match=r"times \['backward', 'forward'\], not the pack's calls"):
        check_report_shape(document, config)
    document["timing"] = document["timing"][:1]
    with pytest.raises(HarnessProtocolError, match="not the pack's calls"):
        check_report_shape(document, config)
