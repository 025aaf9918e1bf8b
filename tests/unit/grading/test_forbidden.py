"""Forbidden calls, as units: found in the source (imports, attribute chains, every kind of
alias), the run-time hook's evidence bounded and typed, attributed to the graded function that
makes them, and flagged or zeroed by policy (in live gradings: tests/test_forbidden.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.grading import forbidden
from grader.grading.config import ForbiddenCalls

EXAMPLES = Path(__file__).resolve().parents[2] / "submissions" / "forbidden"
SCIPY = ["scipy.signal"]


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
