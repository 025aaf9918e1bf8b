"""Forbidden calls in a live grading: a helper's aliased import is caught and blamed on its
caller, and scipy's correlate is flagged statically and at run time, then zeroed (the units:
tests/unit/grading/test_forbidden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.publish.boards import build_boards
from grader.grading.config import GradingConfig
from grader.publish.gradescope import to_gradescope
from tests.unit.grading.test_forbidden import EXAMPLES, SCIPY


def _line_of(path: Path, marker: str = "  # FORBIDDEN CALL") -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if marker in line)


def _grade(name: str, policy: str):
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    config = GradingConfig.model_validate({
        "timing": {"size": "small", "budget_s": 0.2, "min_trials": 3, "max_trials": 3, "warmup_s": 0, "pairs": 1},
        "forbidden": {"modules": SCIPY, "policy": policy},
        # The course lets students import scipy (a worker sees numpy alone otherwise), and
        # forbids the call it would be used for: the run-time hook has something to see.
        "packages": ["scipy"]})
    return grade_submission(EXAMPLES / name, get_sandbox("process"), config, seed=3)


def test_scipy_correlate_in_the_forward_is_flagged_statically_and_at_run_time_and_zeroed():
    pytest.importorskip("scipy.signal")  # the run-time half needs scipy in the worker's python
    result = _grade("scipy_correlate.py", "zero")
    line = _line_of(EXAMPLES / "scipy_correlate.py")
    uses = {(u.how, u.function, u.call, u.file, u.line) for u in result.integrity.uses}
    assert ("static", "forward", "scipy.signal.correlate", "scipy_correlate.py", line) in uses
    assert any(how == "run time" and fn == "forward" and call.startswith("scipy.signal.") and at == line
               for how, fn, call, _, at in uses)
    assert not [u for u in result.integrity.uses if u.function == "backward"]
    # zero: the forward's checks (10 + 30 points) earn nothing; the backward's keep theirs.
    assert result.integrity.zeroed == ["forward"] and result.score == 60
    assert all(c.score == 0 for c in result.checks if c.function == "forward")
    # The evidence stays in the staff's result: not on the board, not in the student's feedback.
    board = json.dumps(build_boards([result]).model_dump(mode="json"))
    assert "scipy.signal" not in board and "integrity" not in board  # (the student's id is scipy_correlate)
    feedback = json.dumps(to_gradescope(result))  # the student's own line may be quoted by the profile; no evidence
    assert "_signaltools" not in feedback and "integrity" not in feedback and "run time" not in feedback
    assert "forbids a call" in feedback


def test_an_aliased_import_in_a_helper_is_caught_and_blamed_on_its_caller():
    pytest.importorskip("scipy.signal")
    result = _grade("aliased_signal.py", "flag")
    line = _line_of(EXAMPLES / "aliased_signal.py")
    statics = {(u.function, u.call, u.line) for u in result.integrity.uses if u.how == "static"}
    assert ("forward", "scipy.signal.correlate", line) in statics
    import_line = 1 + (EXAMPLES / "aliased_signal.py").read_text().splitlines().index("from scipy import signal as s")
    assert ("module", "scipy.signal", import_line) in statics
    assert {(u.function, u.line) for u in result.integrity.uses if u.how == "run time"} == {("forward", line)}
    assert result.score == 100 and result.integrity.zeroed == []  # flag: the score is untouched
