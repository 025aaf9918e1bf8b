"""Every example submission graded end to end (process sandbox), against golden JSON.

Timing figures and other run-dependent fields are masked; everything else (checks,
scores, messages, notes) must match byte for byte. After an intended change, run
``pytest tests/test_examples_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from golden_text import comparable, masked

from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

GOLDEN_DIR = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "result.schema.json").read_text())
SEED = 20261124



# (example, expected score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("fast_strided", 100, None, id="fast_strided"),
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("six_loop_backward", 100, None, id="six_loop_backward"),
    pytest.param("einsum_positions", 100, None, id="einsum_positions"),
    pytest.param("bug_pad_slice", None, r"dx has shape \(\d+, \d+, 0, 0\), expected \(\d+, \d+, [1-9]\d*, [1-9]\d*\) at pad 0",
                 id="bug_pad_slice"),
    pytest.param("bug_hout_both_axes", None, r"out has shape \(\d+, \d+, (\d+), \1\), expected \(\d+, \d+, (?!\1\))\d+",
                 id="bug_hout_both_axes"),
    pytest.param("bug_pad_hardcoded", None, r"out is wrong at pad 0", id="bug_pad_hardcoded"),
    pytest.param("bug_square_kernel", None, r"conv_forward_naive raised ValueError", id="bug_square_kernel"),
    pytest.param("unfinished_none", 50, r"dx is None", id="unfinished_none"),
]


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_example_matches_golden(example, score, failure_text, examples_dir, quick_config, request):
    result = grade_submission(examples_dir / f"{example}.py", get_sandbox("process"), quick_config, seed=SEED)
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def matches_golden(result, score: float | None, failure_text: str | None, golden: Path, update: bool) -> None:
    """What every example's result must be: valid, gradable, its score (or a partial one),
    the message among its failed checks (or no failure, and timed), and its golden JSON.
    ``failure_text`` is a regular expression; ``.`` crosses the lines of a message."""
    document = result.model_dump(mode="json")
    jsonschema.validate(document, SCHEMA)
    assert result.gradable
    if score is not None:
        assert result.score == score
    else:
        assert 0 < result.score < 100
    failed_messages = [c.message for c in result.checks if c.status.value == "failed"]
    if failure_text is None:
        assert failed_messages == []
        assert all(t.measured for t in result.timing)
    else:
        assert any(re.search(failure_text, m, re.S) for m in failed_messages), failed_messages[:3]

    actual = json.dumps(masked(document), indent=2, sort_keys=True) + "\n"
    if update:
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden.name}: run pytest with --update-golden"
    assert comparable(actual) == comparable(golden.read_text()), \
        f"{result.submission.id} differs from {golden.name} (if intended: --update-golden)"
