"""The student self-check kit (`make student-kit`): what it says about each example, and
what it must never contain (reference code, the hidden case generator)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.harness import assignments
from grader.harness.assignments import cs231n_conv as conv2d
from grader.harness.checks import compare as grader_compare
from grader.harness.call_outcome import Returned
from grader.kit import build

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "submissions" / "examples"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kit")
    archive = build.build(folder / "student-kit.zip")
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder / build.TOP


def run_kit(kit: Path, submission: Path, *options: str) -> subprocess.CompletedProcess:
    # -I: isolated, as a student runs it: no PYTHONPATH, not the checkout's folder on sys.path.
    return subprocess.run([sys.executable, "-I", str(kit / "check.py"), str(submission), *options],
                          capture_output=True, text=True, timeout=300, cwd=kit.parent)


@pytest.mark.parametrize("example", ["naive_loops", "fast_strided"])
def test_a_correct_solution_passes(kit, example):
    done = run_kit(kit, EXAMPLES / f"{example}.py", "--no-speed")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "28 of 28 checks passed." in done.stdout
    assert "FAIL" not in done.stdout and "Likely bug" not in done.stdout
    assert done.stdout.count("against numerical gradients of your forward: rel_error") == 3


# What the kit must say for each buggy example: the grader's own message for the case that
# exposes it (as in tests/golden), and the bug named, for the functions it is in.
BUGS = {
    "bug_pad_slice": (["dx has shape (2, 3, 0, 0), expected (2, 3, 5, 5) at pad 0, stride 1"],
                      {"conv_backward_naive": "it fails exactly when pad is 0"}),
    "bug_pad_hardcoded": (["conv_forward_naive raised ValueError: operands could not be broadcast together",
                           "out is wrong at pad 0, stride 1 (x (2, 3, 5, 5), w (2, 3, 3, 3)): rel_error"],
                          {"conv_forward_naive": "it fails exactly when pad is not 1",
                           "conv_backward_naive": "it fails exactly when pad is not 1"}),
    "bug_square_kernel": (["conv_forward_naive raised ValueError: operands could not be broadcast together with "
                           "shapes (2,3,3) (2,3,5)  at pad 1, stride 1 (x (2, 2, 5, 7), w (2, 2, 3, 5))"],
                          {"conv_forward_naive": "it fails exactly when the kernel is not square",
                           "conv_backward_naive": "it fails exactly when the kernel is not square"}),
    "bug_hout_both_axes": (["out has shape (1, 2, 4, 4), expected (1, 2, 4, 6) at pad 1, stride 1"],
                           {"conv_forward_naive": "it fails exactly when the output is not square",
                            "conv_backward_naive": "it fails exactly when the output is not square"}),
}


@pytest.mark.parametrize("example", sorted(BUGS))
def test_each_bug_is_named(kit, example):
    messages, named = BUGS[example]
    done = run_kit(kit, EXAMPLES / f"{example}.py", "--no-speed")
    assert done.returncode == 1
    for message in messages:
        assert message in done.stdout
    likely = dict(re.findall(r"^Likely bug in (\w+): (.*)$", done.stdout, re.M))
    assert sorted(likely) == sorted(named)
    for name, start in named.items():
        assert likely[name].startswith(start)


def test_unfinished_backward_is_told_what_the_grader_tells(kit):
    done = run_kit(kit, EXAMPLES / "unfinished_none.py", "--no-speed")
    assert done.returncode == 1
    assert ("dx is None at pad 1, stride 1 (x (4, 3, 5, 5), w (2, 3, 3, 3)): is the function finished and does it "
            "return dx?") in done.stdout
    assert "Likely bug" not in done.stdout  # it fails everywhere: no shape property explains it


def test_the_graders_hint_comes_with_the_first_error(kit):
    done = run_kit(kit, REPO / "submissions" / "mechanical" / "py2_division.py", "--no-speed")
    assert ("Hint: Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): "
            "py2_division.py line 13: `H_out = 1 + (H + 2 * pad - HH) / stride`") in done.stdout


def test_an_import_error_in_a_package_is_told_as_the_grader_tells_it(kit):
    layers = REPO / "submissions" / "mechanical" / "implicit_relative_import" / "cs231n" / "layers.py"
    done = run_kit(kit, layers)
    assert done.returncode == 1
    assert done.stdout.startswith("importing cs231n/layers.py failed: ModuleNotFoundError: No module named 'im2col'\n"
                                  "Traceback (your code):\n  File \"cs231n/layers.py\", line 3, in <module>")
    assert done.stdout.rstrip().endswith(
        "Hint: importing `im2col` inside the cs231n package is a Python 2 implicit relative import of "
        "cs231n/im2col.py, which is not in your submission; remove the unused import (cs231n/layers.py line 3)")


def test_the_speed_comparison_is_against_numpys_gemm(kit):
    done = run_kit(kit, EXAMPLES / "fast_strided.py")
    assert done.returncode == 0
    assert "numpy GEMM (25 x 27) @ (27 x 25600):" in done.stdout
    assert re.search(r"forward +[\d.]+ ms; .* -> [\d.]+x (the GEMM's time|faster than the GEMM)", done.stdout)
    assert "this machine, not the grader's" in done.stdout


def test_the_kits_messages_are_the_graders_own_code(kit):
    """Shipped, not retyped nor cut: the kit's modules are the grader's files, byte for byte,
    and the kit's compare() answers as the grader's does."""
    for name, module in build.SHIPPED.items():
        assert (kit / "kit" / name).read_bytes() == module.read_bytes(), name
    sys.path.insert(0, str(kit))
    try:
        from kit import call_outcome, checks
    finally:
        sys.path.remove(str(kit))
    expected = np.arange(6.0).reshape(2, 3)
    got = expected.copy()
    got[1, 2] += 1.0
    ours = checks.compare("dx", call_outcome.Returned("array", "numpy.ndarray", "float64", (2, 3), got),
                          expected, 1e-7, "at pad 0, stride 1")
    theirs = grader_compare("dx", Returned("array", "numpy.ndarray", "float64", (2, 3), got), expected, 1e-7,
                            "at pad 0, stride 1")
    assert (ours.passed, ours.message) == (theirs.passed, theirs.message)
    assert checks.__file__ != grader_compare.__code__.co_filename  # the kit's own copy answered


def test_the_kit_is_the_packs_and_a_pack_without_one_gets_the_generic_kit(tmp_path):
    assert (build.kit_files(conv2d)["check.py"].decode()
            == (Path(conv2d.__file__).parent / conv2d.KIT / "check.py").read_text())
    maxpool = assignments.get("cs231n-maxpool")
    assert maxpool.KIT is None
    assert (build.kit_files(maxpool)["check.py"].decode()
            == (Path(conv2d.__file__).parent / "layers_kit" / "check.py").read_text())
    with pytest.raises(assignments.UnknownAssignment, match="unknown assignment 'cs231n-nope'"):
        build.build(tmp_path / "kit.zip", "cs231n-nope")
    assert not (tmp_path / "kit.zip").exists()


def test_the_builder_refuses_a_grader_that_renamed_what_it_packages(tmp_path):
    module = tmp_path / "checks.py"
    module.write_text("def compare():\n    pass\n")
    with pytest.raises(LookupError, match="no longer defines rel_error"):
        build.extract(module, ["compare", "rel_error"])


# ------------------------------------------------------------------ what must not ship


def kit_sources(kit: Path) -> dict[str, str]:
    return {str(path.relative_to(kit)): path.read_text(encoding="utf-8")
            for path in kit.rglob("*") if path.suffix in (".py", ".txt", ".json")}


def reference_names() -> set[str]:
    """Every function and class the reference package defines, and the names the assignment
    gives its reference functions."""
    names = set(conv2d.REFERENCE_FUNCTIONS.values())
    for path in (REPO / "reference").glob("*.py"):
        names |= {node.name for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("__")}
    return names


HIDDEN_GENERATOR_NAMES = {"hidden_cases", "HIDDEN_SHAPES", "LARGEST_KERNEL_SHAPE", "expected_outputs", "speed_case",
                          "check_plan", "course_secret", "default_seed", "CONVGRADE_SEED_SECRET"}


def _normalized_lines(text: str) -> list[str]:
    lines = [re.sub(r"\s+", " ", line.split("#")[0]).strip() for line in text.splitlines()]
    return [line for line in lines if len(line) > 12 and not line.startswith(('"""', "import ", "from "))]


def leaks(sources: dict[str, str]) -> list[str]:
    """Reference names, the hidden generator's names, or any three consecutive lines of reference
    code found in the kit's sources; and imports of anything but numpy, the standard library and
    the kit itself."""
    found = []
    for name in sorted(reference_names() | HIDDEN_GENERATOR_NAMES):
        for path, text in sources.items():
            if re.search(rf"\b{re.escape(name)}\b", text):
                found.append(f"{path} names {name}")
    kit_text = "\n".join(" ".join(_normalized_lines(text)) for text in sources.values())
    for path in (REPO / "reference").glob("*.py"):
        lines = _normalized_lines(path.read_text())
        for i in range(len(lines) - 2):
            if " ".join(lines[i:i + 3]) in kit_text:
                found.append(f"reference/{path.name} lines copied: {lines[i]!r}...")
    allowed = set(sys.stdlib_module_names) | {"numpy", "kit"}
    for path, text in sources.items():
        if not path.endswith(".py"):
            continue
        # The submit client alone talks HTTP (httpx): checking needs no network.
        allowed_here = allowed | ({"httpx"} if path == "kit/submit_client.py" else set())
        for node in ast.walk(ast.parse(text)):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                       [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path} imports {module}" for module in modules if module.split(".")[0] not in allowed_here]
    return found


def test_no_reference_code_and_no_hidden_generator_ship(kit):
    assert leaks(kit_sources(kit)) == []
    assert "reference" not in " ".join(str(p) for p in kit.rglob("*"))


def test_the_leak_check_finds_a_copied_reference_and_the_generator(kit):
    """The check above can fail: the reference module or the generator, added to the kit, is caught."""
    sources = kit_sources(kit)
    strided = (REPO / "reference" / "strided.py").read_text()
    assert any("names conv_forward" in leak for leak in leaks({**sources, "kit/extra.py": strided}))
    renamed = re.sub(r"\bdef \w+", "def helper", strided)
    assert any("lines copied" in leak for leak in leaks({**sources, "kit/extra.py": renamed}))
    generator = build.extract(REPO / "grader" / "harness" / "assignments" / "cs231n_conv.py", ["hidden_cases"])
    assert any("names hidden_cases" in leak for leak in leaks({**sources, "kit/extra.py": generator}))
    assert any("imports grader" in leak for leak in leaks({**sources, "kit/extra.py": "import grader.grading.seeds\n"}))


def test_the_public_cases_expose_one_property_each():
    """Each shape property holds for a different set of the kit's cases, so a failing set names one."""
    from grader.harness.assignments.cs231n_conv_kit.diagnosis import PROPERTIES, case_properties
    from grader.harness.assignments.cs231n_conv_kit.public_cases import public_cases

    cases = public_cases()
    having = [frozenset(case.id for case in cases
                        if name in case_properties(case.x.shape, case.w.shape, case.conv_param["pad"],
                                                   case.conv_param["stride"])) for name, _ in PROPERTIES]
    assert all(having) and len(set(having)) == len(having)
