"""Results for page and Gradescope tests, read from the committed goldens: the fields the
goldens mask (times, the host) are given plausible values, the rest is as graded."""

from __future__ import annotations

import json
from pathlib import Path

from grader.grading.result import GradeResult
from tests.golden_text import MASK

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _timing(row: dict) -> dict:
    figures = {"trials": 3, "speedup_vs_reference": 0.5, "ci_low": 0.4, "ci_high": 0.6, "ci_level": 0.95}
    unmasked = {key: value for key, value in row.items() if value != MASK}
    if row["measured"]:
        unmasked.update(figures)
    return unmasked


def golden_result(name: str) -> GradeResult:
    document = json.loads((GOLDEN / f"{name}.json").read_text())
    document.update(graded_at="2026-12-08T00:00:00Z", wall_time_s=1.0, environment=None, line_profiles=[])
    document["timing"] = [_timing(row) for row in document["timing"]]
    return GradeResult.model_validate(document)
