"""Forbidden calls: found in the source (imports, attribute chains, every kind of alias),
seen at run time by the student worker's hook, attributed to the graded function that
makes them, flagged or zeroed by policy, and never shown outside the staff's result."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from grader import forbidden
from grader.boards import build_boards
from grader.config import ForbiddenCalls, GradingConfig
from grader.gradescope import to_gradescope

EXAMPLES = Path(__file__).parent / "submissions" / "forbidden"
SCIPY = ["scipy.signal"]


def _line_of(path: Path, marker: str = "  # FORBIDDEN CALL") -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if marker in line)


def _uses(tmp_path: Path, source: str, patterns=SCIPY, name: str = "layers.py") -> list[tuple]:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(source))
    return [(u.function, u.call, u.line) for u in forbidden.static_uses(tmp_path, patterns)]


TEMPLATE = """\
    {imports}

    def conv_forward_naive(x, w, b, conv_param):
        return {call}, None

    def conv_backward_naive(dout, cache):
        return None, None, None
    """


@pytest.mark.parametrize("imports, call, found", [
    ("import scipy.signal", "scipy.signal.correlate(x, w)", "scipy.signal.correlate"),
    ("import scipy.signal as sig", "sig.correlate(x, w)", "scipy.signal.correlate"),
    ("from scipy import signal as s", "s.correlate(x, w)", "scipy.signal.correlate"),
    ("from scipy.signal import correlate as c", "c(x, w)", "scipy.signal.correlate"),
    ("from scipy import signal as s\n    corr = s.correlate2d", "corr(x, w)", "scipy.signal.correlate2d"),
    ("import importlib", "importlib.import_module('scipy.signal').correlate(x, w)", "scipy.signal"),
])
def test_every_alias_of_a_forbidden_call_is_resolved(tmp_path, imports, call, found):
    source = TEMPLATE.format(imports=imports, call=call)
    line = 1 + textwrap.dedent(source).splitlines().index(f"    return {call}, None")
    uses = _uses(tmp_path, source)
    assert ("forward", found, line) in uses
    assert not [u for u in uses if u[0] == "backward"]


def test_relative_imports_inside_a_package_are_resolved(tmp_path):
    (tmp_path / "cs231n").mkdir()
    (tmp_path / "cs231n" / "__init__.py").write_text("")
    uses = _uses(tmp_path, TEMPLATE.format(imports="from .fast_layers import conv_forward_fast",
                                           call="conv_forward_fast(x, w, None, conv_param)[0]"),
                 patterns=["cs231n.fast_layers"], name="cs231n/layers.py")
    assert ("forward", "cs231n.fast_layers.conv_forward_fast", 4) in uses


def test_allowed_code_and_lookalike_names_are_not_flagged(tmp_path):
    source = TEMPLATE.format(imports="import numpy as np\n    import scipy.linalg\n    signal = None",
                             call="np.sum(x) + scipy.linalg.norm(w)")
    assert _uses(tmp_path, source) == []


def test_config_refuses_patterns_that_are_not_dotted_names():
    with pytest.raises(ValueError, match="not dotted Python names"):
        ForbiddenCalls(modules=["scipy.signal", "scipy/signal"])


def test_the_flag_policy_reports_without_zeroing():
    observed = [{"function": "forward", "module": "scipy.signal._signaltools", "name": "correlate", "file": "a.py",
                 "line": 7, "count": 3}]
    integrity = forbidden.review(EXAMPLES / "none-such", observed, SCIPY, "flag")
    assert integrity.zeroed == [] and [u.how for u in integrity.uses] == ["run time"]
    assert forbidden.review(EXAMPLES, observed, [], "zero") is None  # nothing forbidden: no block at all


def _grade(name: str, policy: str):
    from grader.grade import grade_submission
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


def test_the_workers_run_time_evidence_is_bounded_and_typed():
    from grader.harness.speed_feedback import clean_observed

    forged = [{"module": "scipy.signal", "name": "x" * 10_000, "file": "a.py", "line": 3, "count": 1},
              {"module": "scipy.signal", "line": "3", "count": 1}, "not a dict"] + [
              {"module": "m", "name": "n", "file": "f", "line": 1, "count": 1}] * 100
    cleaned = clean_observed(forged, "forward")
    assert len(cleaned) <= 20 and all(type(item["line"]) is int for item in cleaned)
    assert len(cleaned[0]["name"]) < 300 and clean_observed({"not": "a list"}, "forward") == []


def _deeply_nested_source(definitions: int = 99, calls: int = 199, negations: int = 150) -> str:
    """Valid Python (it compiles and imports) of about 22 KB: definitions nested as deep as
    the tokenizer allows, a call nested as deep, and a chain of `not`s inside it. A walk
    that recurses per node goes past Python's recursion limit on it."""
    lines = [f"{'    ' * depth}def helper{depth}(x):" for depth in range(definitions)]
    lines.append(f"{'    ' * definitions}return {'g(' * calls}{'not ' * negations}x{')' * calls}")
    return "\n".join(lines) + "\n"


def test_a_deeply_nested_valid_file_is_analysed_not_a_recursion_error(tmp_path):
    deep = _deeply_nested_source()
    compile(deep, "deep.py", "exec")  # the student's file is valid: it would import
    assert 20_000 < len(deep.encode()) < 24_000
    (tmp_path / "deep.py").write_text(deep)
    uses = _uses(tmp_path, TEMPLATE.format(imports="import scipy.signal", call="scipy.signal.correlate(x, w)"))
    # the other file's use is still found, attributed and placed; the deep file has none
    assert uses == [("module", "scipy.signal", 1), ("forward", "scipy.signal.correlate", 4)]
    deep_with_use = deep.replace("return g(", "return scipy.signal.correlate(", 1)
    (tmp_path / "deep.py").write_text("import scipy.signal\n" + deep_with_use)
    found = [(u.function, u.file, u.call, u.line) for u in forbidden.static_uses(tmp_path, SCIPY)]
    assert ("module", "deep.py", "scipy.signal.correlate", 101) in found


STUDENT_MODULE = '''\
import sys
import numpy as np


def by_getattr(x):
    return getattr(np.lib, "stride_tricks").as_strided(x, shape=(2, 2), strides=(0, 8))


def by_private_module(x):
    return sys.modules["numpy.lib._stride_tricks_impl"].sliding_window_view(x, 2)


def inside_the_library(x):  # np.vectorize with a signature uses as_strided itself: not the student's call
    return np.vectorize(lambda row: row.sum(), signature="(n)->()")(x.reshape(1, -1))


def removes_the_hook(x):
    sys.setprofile(None)
    return by_getattr(x)


def replaces_the_hook(x):
    sys.setprofile(lambda frame, event, arg: None)
    return x
'''


def _watched(tmp_path: Path, name: str) -> list[dict]:
    import importlib.util

    import numpy as np

    from grader.harness import call_watch

    path = tmp_path / "student.py"
    path.write_text(STUDENT_MODULE)
    spec = importlib.util.spec_from_file_location("watched_student", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    evidence: list = []
    call_watch.watched_call(getattr(module, name), [np.arange(4.0)], ["numpy.lib.stride_tricks"], str(tmp_path),
                            evidence)
    return evidence


def _line(text: str) -> int:
    return next(i for i, line in enumerate(STUDENT_MODULE.splitlines(), start=1) if text in line)


@pytest.mark.parametrize("function, called, at", [
    ("by_getattr", "as_strided", "as_strided(x,"),
    ("by_private_module", "sliding_window_view", "sliding_window_view(x, 2)"),
])
def test_the_watch_knows_a_forbidden_function_by_identity_whatever_the_path(tmp_path, function, called, at):
    """NumPy 2 runs numpy.lib.stride_tricks' functions in numpy.lib._stride_tricks_impl: matched on
    module names they were never seen. Known by identity, they are, under their public name."""
    assert _watched(tmp_path, function) == [{"module": "numpy.lib.stride_tricks", "name": called,
                                            "file": "student.py", "line": _line(at), "count": 1}]


def test_a_forbidden_function_the_library_calls_itself_is_not_the_students(tmp_path):
    assert _watched(tmp_path, "inside_the_library") == []


@pytest.mark.parametrize("function, what", [("removes_the_hook", "removed"), ("replaces_the_hook", "replaced")])
def test_a_removed_or_replaced_hook_is_reported_first(tmp_path, function, what):
    import sys

    evidence = _watched(tmp_path, function)
    assert evidence == [{"hook": what}]  # as_strided ran after the removal: unseen
    assert sys.getprofile() is None  # the watch leaves no hook behind, whoever set the last one


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
