"""The example submissions are what they claim: the correct ones match the reference,
each buggy one shows its bug on a shape that triggers it, and (like the real bugs)
passes the notebook's own checks, which is why the grader needs more shapes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tests.unit.reference.conv_cases import (
    NOTEBOOK_FORWARD_CASE,
    Case,
    notebook_backward_arrays,
    notebook_forward_arrays,
    rel_error,
)

from reference import strided

EXAMPLES = Path(__file__).resolve().parents[3] / "submissions" / "examples"
CORRECT = ["naive_loops", "six_loop_backward", "einsum_positions", "fast_strided"]
BUGGY = ["bug_pad_slice", "bug_hout_both_axes", "bug_pad_hardcoded", "bug_square_kernel", "unfinished_none"]


def load_example(name: str):
    """Import a submission file by path, as a student's module, without touching sys.path."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_forward():
    x, w, b = notebook_forward_arrays()
    dout = np.random.default_rng(0).standard_normal(NOTEBOOK_FORWARD_CASE.out_shape)
    return NOTEBOOK_FORWARD_CASE, (x, w, b, dout)


def notebook_backward():
    return Case((4, 3, 5, 5), (2, 3, 3, 3), 1, 1), notebook_backward_arrays()


def seeded(case: Case):
    return lambda: (case, case.arrays(seed=7))


CASES = {
    "notebook-forward": notebook_forward,
    "notebook-backward": notebook_backward,
    "pad0-stride1": seeded(Case((2, 3, 6, 6), (2, 3, 3, 3), 1, 0)),
    "pad0-stride2-nonsquare": seeded(Case((2, 3, 7, 9), (2, 3, 3, 3), 2, 0)),
    "pad2-stride1": seeded(Case((2, 3, 5, 5), (2, 3, 3, 3), 1, 2)),
    "wide-output": seeded(Case((2, 3, 5, 7), (2, 3, 3, 3), 1, 1)),  # H' x W' = 5 x 7
    "tall-output": seeded(Case((2, 3, 7, 5), (2, 3, 3, 3), 1, 1)),  # 7 x 5
    "kernel-3x1": seeded(Case((2, 3, 5, 5), (2, 3, 3, 1), 1, 1)),
    "kernel-3x5-pad2": seeded(Case((2, 3, 6, 6), (2, 3, 3, 5), 1, 2)),
    "stride3-wider-than-kernel": seeded(Case((2, 3, 8, 4), (2, 3, 3, 2), 3, 2)),
}


def symptoms(example, case_name: str) -> list[str]:
    """How the example's forward and backward differ from reference.strided ([] if they agree)."""
    case, (x, w, b, dout) = CASES[case_name]()
    want_out, cache = strided.conv_forward(x, w, b, case.conv_param)
    wanted = (want_out, *strided.conv_backward(dout, cache))
    try:
        out, student_cache = example.conv_forward_naive(x.copy(), w.copy(), b.copy(), case.conv_param)
    except Exception as error:  # the symptom is the point: any exception is one
        return [f"forward raises {type(error).__name__}"]
    found = [difference("out", out, wanted[0])]
    try:
        grads = example.conv_backward_naive(dout.copy(), student_cache)
    except Exception as error:
        return [s for s in found if s] + [f"backward raises {type(error).__name__}"]
    found += [difference(label, got, want) for label, got, want in zip(("dx", "dw", "db"), grads, wanted[1:])]
    return [s for s in found if s]


def difference(label: str, got, want: np.ndarray) -> str | None:
    if got is None:
        return f"{label} is None"
    got = np.asarray(got)
    if got.shape != want.shape:
        return f"{label} has shape {got.shape}, expected {want.shape}"
    error = rel_error(got, want)
    return f"{label} rel_error {error:.0e}" if error > 1e-10 else None


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("name", CORRECT)
def test_correct_example_matches_reference(name, case_name):
    assert symptoms(load_example(name), case_name) == []


# (example, a shape that triggers its bug, the exact symptom expected there)
BUG_SYMPTOMS = [
    ("bug_pad_slice", "pad0-stride1", "dx has shape (2, 3, 0, 0), expected (2, 3, 6, 6)"),
    ("bug_pad_slice", "pad0-stride2-nonsquare", "dx has shape (2, 3, 0, 0), expected (2, 3, 7, 9)"),
    ("bug_hout_both_axes", "wide-output", "out has shape (2, 2, 5, 5), expected (2, 2, 5, 7)"),
    ("bug_hout_both_axes", "tall-output", "forward raises ValueError"),  # a broadcast error
    ("bug_pad_hardcoded", "pad0-stride1", "out rel_error 1e+00"),  # right shape, shifted windows
    ("bug_pad_hardcoded", "pad2-stride1", "forward raises ValueError"),  # windows run off the padding
    ("bug_square_kernel", "kernel-3x1", "out has shape (2, 2, 5, 5), expected (2, 2, 5, 7)"),
    ("bug_square_kernel", "kernel-3x5-pad2", "forward raises ValueError"),
    ("unfinished_none", "notebook-backward", "dx is None"),
]


@pytest.mark.parametrize(("name", "case_name", "symptom"), BUG_SYMPTOMS,
                         ids=[f"{name}-{case_name}" for name, case_name, _ in BUG_SYMPTOMS])
def test_buggy_example_shows_its_bug(name, case_name, symptom):
    assert symptom in symptoms(load_example(name), case_name)


@pytest.mark.parametrize("name", BUGGY)
def test_buggy_example_passes_the_notebook_forward_check(name):
    forward_symptoms = [s for s in symptoms(load_example(name), "notebook-forward") if s.startswith(("out", "forward"))]
    assert forward_symptoms == []


@pytest.mark.parametrize("name", [n for n in BUGGY if n != "unfinished_none"])
def test_shape_bugs_also_pass_the_notebook_backward_check(name):
    assert symptoms(load_example(name), "notebook-backward") == []


def test_every_example_file_is_listed_and_starts_with_a_docstring():
    files = sorted(path.stem for path in EXAMPLES.glob("*.py"))
    assert files == sorted(CORRECT + BUGGY)
    for name in files:
        first_line = (EXAMPLES / f"{name}.py").read_text().splitlines()[0]
        assert first_line.startswith('"""') and first_line.endswith('"""'), name
