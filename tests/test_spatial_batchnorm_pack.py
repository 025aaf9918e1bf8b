"""The spatial batch-normalization pack graded for real, each example once (the harness in a
child Python, as tests/test_batchnorm_pack.py runs it): the right ones pass every planned
check, each layout bug is named."""

from __future__ import annotations

import re

import pytest
from test_batchnorm_pack import ROOT, grade

from grader.grading.config import GradingConfig, TimingSettings
from grader.harness.assignments import cs231n_spatial_batchnorm as pack

EXAMPLES_DIR = ROOT / "submissions" / "spatial_batchnorm"
EXAMPLES = [
    ("vectorised", None),
    ("loops", None),
    ("bug_reshape_without_transpose", r"out is wrong at x \(2, 3, 4, 5\).*The statistics mix channels: "
                                      r"x\.reshape\(-1, C\) puts values of several channels in each row"),
    ("bug_transpose_back_missing", r"out is wrong at x \(3, 2, 5, 3\).*The values are right but in the wrong places"),
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    config = GradingConfig(assignment="cs231n-spatial-batchnorm", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))
    return grade([example for example, _ in EXAMPLES], config, tmp_path_factory, EXAMPLES_DIR)


@pytest.mark.parametrize("example, failure_text", EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_example_gets_the_answer_it_must(example, failure_text, reports):
    report = reports[example]
    assert [c["id"] for c in report["checks"]] == [c["id"] for c in pack.check_plan(len(pack.HIDDEN_SHAPES))]
    failed = {c["id"]: c["message"] for c in report["checks"] if not c["passed"]}
    rows = {row["function"]: row for row in report["timing"]}
    assert list(rows) == list(pack.STUDENT_FUNCTIONS)
    if failure_text is None:
        assert failed == {}
        assert all(row["measured"] for row in rows.values()), rows
        train = next(c for c in report["checks"] if c["id"] == "forward_train/notebook-train/out")
        assert "(the notebook expects about beta [6, 7, 8] and gamma [3, 4, 5])" in train["message"]
    else:
        assert any(re.search(failure_text, message) for message in failed.values()), failed
        assert not any(row["measured"] for row in rows.values())
