"""Scoring end to end: broken code scores zero in a live grading (the scoring rules:
tests/unit/grading/test_scoring.py)."""

from __future__ import annotations

import pytest


# -- end to end: code that gets nothing right scores 0 --------------------------------------------


@pytest.mark.parametrize("submission, failure", [
    pytest.param("garbage_outputs", "out is wrong", id="garbage"),
    pytest.param("raises_everywhere", "conv_forward_naive raised NotImplementedError", id="raises"),
])
def test_broken_code_scores_zero_end_to_end(submission, failure, quick_config):
    from pathlib import Path

    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    path = Path(__file__).parent / "submissions" / f"{submission}.py"
    result = grade_submission(path, get_sandbox("process"), quick_config, seed=11)

    assert result.gradable and (result.score, result.max_score) == (0.0, 100.0)
    inputs = next(c for c in result.checks if c.id == "inputs-unchanged")
    assert inputs.status.value == "failed"
    assert inputs.message.startswith("no call changed its inputs; but no call of conv_forward_naive or "
                                     "conv_backward_naive returned a correct output")
    assert failure in next(c.message for c in result.checks if c.id == "forward/notebook-forward")
