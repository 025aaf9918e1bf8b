"""Harness reports a test scripts instead of grading live: for logic over a report (the batch's
bookkeeping, the command line's notes), which needs a result per student but not a harness
run. A FakeSandbox (grader/sandbox/fake.py) answers each run with one."""

from __future__ import annotations

from grader.harness.assignments import cs231n_conv as conv2d
from grader.sandbox.fake import FakeSandbox


def passing_report(config) -> dict:
    """A whole harness report of the convolution pack in which every planned check passed
    (nothing timed)."""
    return {"import": {"ok": True, "message": "", "functions": {"conv_forward_naive": True,
                                                                 "conv_backward_naive": True}},
            "sandboxing": {"notes": []},
            "environment": {"python": "3", "numpy": "2", "blas": "none", "cpu_model": "scripted"},
            "checks": [{**check, "passed": True, "message": ""} for check in conv2d.check_plan(config.hidden_cases)],
            "timing": [{"call": call, "function": conv2d.STUDENT_FUNCTIONS[call], "layer": conv2d.NAME,
                        "measured": False, "reason": "not timed here", "case": "small"} for call in conv2d.STUDENT_FUNCTIONS]}


def scripted_sandbox(config):
    """A FakeSandbox whose every run reports ``passing_report``."""
    return FakeSandbox(default=lambda job: passing_report(config))
