"""The spatial batch-normalization pack graded end to end (process sandbox, the host's
scoring and result), each example once, against golden JSON, as tests/test_batchnorm_pack.py
grades the plain layer: the right ones pass every planned check and are timed, each
layout bug is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_batchnorm_pack import ROOT, failed, grade
from test_examples_golden import matches_golden

from grader.harness.assignments import cs231n_spatial_batchnorm as pack

EXAMPLES_DIR = ROOT / "submissions" / "spatial_batchnorm"
GOLDEN_DIR = Path(__file__).parent / "golden" / "spatial_batchnorm"
# (example, score, a message that must appear among the failed checks; None: every check passes)
EXAMPLES = [
    ("vectorised", 100, None),
    ("loops", 100, None),
    ("bug_reshape_without_transpose", 0, r"out is wrong at x \(2, 3, 4, 5\).*The statistics mix channels: "
                                            r"x\.reshape\(-1, C\) puts values of several channels in each row"),
    ("bug_transpose_back_missing", None, r"out is wrong at x \(3, 2, 5, 3\).*The values are right but in the wrong "
                                         r"places"),
]


@pytest.fixture(scope="module")
def graded() -> dict:
    return grade([example for example, _, _ in EXAMPLES], "cs231n-spatial-batchnorm", EXAMPLES_DIR)


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES, ids=[e for e, _, _ in EXAMPLES])
def test_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert [check.id for check in result.checks] == [check["id"] for check in pack.check_plan(len(pack.HIDDEN_SHAPES))]
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json", request.config.getoption("--update-golden"))
    rows = {row.call: row for row in result.timing}
    assert list(rows) == list(pack.STUDENT_FUNCTIONS)
    if failure_text is None:
        train = next(check for check in result.checks if check.id == "forward_train/notebook-train")
        assert "(the notebook expects about beta [6, 7, 8] and gamma [3, 4, 5])" in train.message
    else:
        assert failed(result) and not any(row.measured for row in rows.values())
