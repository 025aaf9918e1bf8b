"""Forbidden calls in a live grading: a helper's aliased import is caught and blamed on its
caller, and scipy's correlate is flagged statically and at run time, then zeroed (the units:
tests/unit/grading/test_forbidden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.publish.boards import build_boards
from grader.grading import forbidden
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
    assert all(c.score == 0 for c in result.checks if c.call == "forward")
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


def test_a_static_review_past_its_budget_is_a_note_and_the_run_time_evidence_stays(tmp_path):
    """Twenty 1.8 MB files take seconds to parse: past a 1 s budget the review stops, the
    student is told, and the run-time evidence still makes the integrity block."""
    body = "import scipy.signal\n" + "x = [1, 2, (3, 4), {5: 6}]\n" * 70_000
    for number in range(20):
        (tmp_path / f"part{number}.py").write_text(body)
    observed = [{"function": "forward", "module": "scipy.signal._signaltools", "name": "correlate", "file": "a.py",
                 "line": 7, "count": 3}]
    integrity, note = forbidden.review_bounded(tmp_path, observed, SCIPY, "zero",
                                               budget=forbidden.Budget(wall_s=1.0, cpu_s=60))
    assert note == ("the course's review of your files for forbidden calls stopped after 1 s (its time limit); "
                    "only what the run-time watch saw of your calls counts")
    assert [(u.how, u.call) for u in integrity.uses] == [("run time", "scipy.signal._signaltools.correlate")]
    assert integrity.zeroed == ["forward"]
    # Within its budget, a review finds the static uses as before.
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "layers.py").write_text("import scipy.signal\n")
    integrity, note = forbidden.review_bounded(tmp_path / "small", [], SCIPY, "flag")
    assert note is None and [(u.how, u.file, u.line) for u in integrity.uses] == [("static", "layers.py", 1)]


def test_the_flag_policy_reports_without_zeroing():
    observed = [{"function": "forward", "module": "scipy.signal._signaltools", "name": "correlate", "file": "a.py",
                 "line": 7, "count": 3}]
    integrity = forbidden.review(EXAMPLES / "none-such", observed, SCIPY, "flag")
    assert integrity.zeroed == [] and [u.how for u in integrity.uses] == ["run time"]
    assert forbidden.review(EXAMPLES, observed, [], "zero") is None  # nothing forbidden: no block at all


def test_the_hook_state_survives_cleaning_once_and_a_flood_cannot_push_it_out():
    from grader.harness.speed_feedback import clean_observed

    flood = [{"module": "m", "name": f"n{i}", "file": "f", "line": i, "count": 1} for i in range(40)]
    cleaned = clean_observed([{"hook": "replaced"}, {"hook": "removed"}] + flood, "backward")
    assert cleaned[0] == {"function": "backward", "module": "", "name": "hook removed", "file": "", "line": 0,
                          "count": 1, "hook": "removed"}
    assert len(cleaned) == 20 and not [item for item in cleaned[1:] if "hook" in item]
    integrity = forbidden.review(EXAMPLES / "none-such", cleaned, ["m"], "zero")
    assert [(h.function, h.what, h.calls) for h in integrity.hook_tampering] == [("backward", "removed", 1)]
    assert integrity.zeroed == ["backward"] and len(integrity.uses) == 19  # the calls, not the hook
