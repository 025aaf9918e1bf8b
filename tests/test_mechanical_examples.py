"""Submissions whose first error is mechanical (submissions/mechanical/), end to end.

Each gets its precise first-error message, and a what-if section whose verdict, check
by check, is the verdict of the hand-repaired copy in submissions/mechanical/repaired/
graded normally. The score is what the file as submitted earns, with or without the
what-if grading. The whole results are also compared with golden JSON (timing masked).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from golden_text import comparable, masked

from grader.grading.config import GradingConfig, WhatIfSettings
from grader.grading.grade import grade_submission
from grader.publish.gradescope import to_gradescope
from grader.sandbox import get_sandbox

ROOT = Path(__file__).resolve().parents[1]
MECHANICAL = ROOT / "submissions" / "mechanical"
REPAIRED = MECHANICAL / "repaired"
GOLDEN_DIR = Path(__file__).parent / "golden" / "mechanical"
SCHEMA = json.loads((ROOT / "schemas" / "result.schema.json").read_text())
SEED = 20261128

# (example, message the first failure must hold, hint it must hold, hand-repaired copies (one per variant),
#  rules the what-if must list)
EXAMPLES = [
    pytest.param(
        "py2_division.py", "conv_forward_naive raised TypeError: 'float' object cannot be interpreted as an integer "
        "at pad 1, stride 2 (x (2, 3, 4, 4), w (3, 3, 4, 4))",
        "Hint: Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): py2_division.py "
        "line 13: `H_out = 1 + (H + 2 * pad - HH) / stride`; line 14:", ["py2_division.py"], {"python2_division"},
        id="py2_division"),
    pytest.param(
        "py2_im2col.py", "conv_forward_naive raised TypeError: Cannot cast array data from dtype('float64') to "
        "dtype('int64')",
        "Hint: Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): py2_im2col.py "
        "line 26: `H_out = (H + 2 * pad - HH) / stride + 1`; line 27: `W_out = (W + 2 * pad - WW) / stride + 1`; "
        "line 43: `H_out = (H + 2 * pad - HH) / stride + 1`; line 44: `W_out = (W + 2 * pad - WW) / stride + 1` "
        "(the file is Python 2: `from __future__ import print_function` at line 6, `xrange` at line 49)",
        ["py2_im2col.py"], {"python2_division", "xrange"}, id="py2_im2col"),
    pytest.param(
        "py2_print_xrange.py", "syntax error in py2_print_xrange.py line 13: Missing parentheses in call to 'print'",
        "this looks like Python 2 code", ["py2_print_xrange.py"], {"python2_print", "xrange", "python2_division"},
        id="py2_print_xrange"),
    pytest.param(
        "numpy_alias.py", "conv_forward_naive raised AttributeError: module 'numpy' has no attribute 'int'. at pad 1, "
        "stride 2",
        "`np.int` was removed from NumPy (use `int` or `np.int64`)", ["numpy_alias.py"], {"numpy_alias"},
        id="numpy_alias"),
    pytest.param(
        "private_numpy_import.py", "No module named 'numpy.testing._private.nosetester'",
        "`numpy.testing._private.nosetester` is not in the grading environment's NumPy",
        ["private_numpy_import.py"], {"unused_missing_import"}, id="private_numpy_import"),
    pytest.param(
        "unused_matplotlib.py", "No module named 'matplotlib'",
        "matplotlib is not installed in the grading environment; remove the unused import (unused_matplotlib.py "
        "line 5), or ask staff to add it", ["unused_matplotlib.py"], {"unused_missing_import"},
        id="unused_matplotlib"),
    pytest.param(
        "merge_conflict.py", "merge_conflict.py still holds unresolved git merge-conflict markers (lines 37-42)",
        "delete the <<<<<<<, ======= and >>>>>>> lines",
        ["merge_conflict_first_side.py", "merge_conflict_second_side.py"], {"merge_conflict"}, id="merge_conflict"),
    pytest.param(
        "tabs_mixed.py", "tabs_mixed.py mixes tabs and spaces in its indentation (first refused at line 17; "
        "tab-indented lines: 17-18, 33-37)", "indent with spaces only", ["tabs_mixed.py"], {"tabs"},
        id="tabs_mixed"),
    pytest.param(
        "implicit_relative_import", "No module named 'im2col'",
        "importing `im2col` inside the cs231n package is a Python 2 implicit relative import of cs231n/im2col.py, "
        "which is not in your submission; remove the unused import (cs231n/layers.py line 3)",
        ["implicit_relative_import"], {"unused_missing_import"}, id="implicit_relative_import"),
    pytest.param(
        "xrange_loops.py", "conv_forward_naive raised NameError: name 'xrange' is not defined at pad 1, stride 2",
        "`xrange` is Python 2; use `range` (the grader runs Python 3)", ["xrange_loops.py"], {"xrange"},
        id="xrange_loops"),
    pytest.param(
        "cs231n_import.py", "No module named 'cs231n'",
        "the grader only has your submission's files; remove the unused import (cs231n_import.py line 1)",
        ["cs231n_import.py"], {"unused_missing_import"}, id="cs231n_import"),
    pytest.param(
        "merge_conflict_long_markers.py", "merge_conflict_long_markers.py still holds unresolved git "
        "merge-conflict markers (lines 11-17)", "delete the <<<<<<<, ======= and >>>>>>> lines",
        ["merge_conflict_long_markers_first_side.py", "merge_conflict_long_markers_second_side.py"],
        {"merge_conflict"}, id="merge_conflict_long_markers"),
    pytest.param(
        "py2_print_continued.py", "syntax error in py2_print_continued.py line 14: Missing parentheses in call to "
        "'print'", "this looks like Python 2 code", ["py2_print_continued.py"], {"python2_print"},
        id="py2_print_continued"),
    pytest.param(
        "python2_package", "syntax error in cs231n/layers.py line 14: Missing parentheses in call to 'print'",
        "this looks like Python 2 code", ["python2_package"],
        {"python2_print", "implicit_relative_import", "xrange"}, id="python2_package"),
    pytest.param(
        "python2_notebook.ipynb", "syntax error in notebook cell 3 line 7: Missing parentheses in call to 'print'",
        "this looks like Python 2 code", ["python2_notebook.ipynb"], {"python2_print", "xrange", "python2_division"},
        id="python2_notebook"),
]


def grade(path: Path, config: GradingConfig):
    result = grade_submission(path, get_sandbox("process"), config, seed=SEED)
    assert result.gradable
    return result


def verdicts(result) -> dict[str, bool]:
    return {c.id: c.status.value == "passed" for c in result.checks if c.id != "load" and c.group != "speed"}



@pytest.mark.parametrize("example, message, hint, repaired, rules", EXAMPLES)
def test_mechanical_example(example, message, hint, repaired, rules, quick_config, request):
    result = grade(MECHANICAL / example, quick_config)
    document = result.model_dump(mode="json")
    jsonschema.validate(document, SCHEMA)

    failed = [c.message for c in result.checks if c.status.value == "failed"]
    first = result.failure.message if result.failure else failed[0]
    assert message in first
    assert hint in first

    # The what-if verdict is the hand-repaired copy's, check by check, for every variant.
    what = result.what_if
    assert what is not None
    assert len(what.variants) == len(repaired)
    for variant, copy in zip(what.variants, repaired):
        expected = verdicts(grade(REPAIRED / copy, quick_config))
        assert {c.id: c.passed for c in variant.checks} == expected, variant.verdict
        assert variant.passed == sum(expected.values()) and variant.total == len(expected)
        assert {r.rule for r in variant.repairs} == rules
        assert all(r.line > 0 and r.before for r in variant.repairs)
    assert what.summary.startswith(("With these", "With this", "Keeping the first side"))

    # Feedback only: the score is the same without the what-if grading.
    without = grade(MECHANICAL / example, quick_config.model_copy(update={"what_if": WhatIfSettings(enabled=False)}))
    assert without.what_if is None
    assert without.score == result.score
    assert [c.status for c in without.checks] == [c.status for c in result.checks]

    # Gradescope: the section is in the output text, never a test or a score.
    gradescope = to_gradescope(result)
    assert "What-if feedback (not part of your score): " + what.summary in gradescope["output"]
    assert gradescope["score"] == result.score
    assert all("what-if" not in test["name"].lower() for test in gradescope["tests"])

    golden = GOLDEN_DIR / f"{Path(example).stem}.json"
    actual = json.dumps(masked(document), indent=2, sort_keys=True) + "\n"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden.name}: run pytest with --update-golden"
    assert comparable(actual) == comparable(golden.read_text()), f"{example} differs from {golden.name} (if intended: --update-golden)"


def test_wrong_behind_the_first_error_is_told(quick_config):
    """Python 2 on top of the pad:-pad bug: the what-if says backward is wrong at pad 0."""
    result = grade(MECHANICAL / "py2_print_xrange.py", quick_config)
    assert result.score == 0
    assert result.what_if.variants[0].passed < result.what_if.variants[0].total
    assert "forward right, backward wrong in 3 of 27 checks (dx has shape" in result.what_if.summary
    assert "at pad 0" in result.what_if.summary


def test_merge_conflict_sides_are_told_apart(quick_config):
    result = grade(MECHANICAL / "merge_conflict.py", quick_config)
    first, second = result.what_if.variants
    assert first.label == "keeping the first side of each conflict" and "at pad 0" in first.verdict
    assert second.passed == second.total and second.verdict == "forward right, backward right"
    assert first.repairs[0].after == "kept the first side (HEAD)"
    assert second.repairs[0].after == "kept the second side (fix-pad-zero)"
    assert (first.repairs[0].line, first.repairs[0].end_line) == (37, 42)


def test_a_correct_submission_gets_no_what_if(quick_config, examples_dir):
    assert grade(examples_dir / "naive_loops.py", quick_config).what_if is None


def test_a_wrong_answer_is_not_mechanical(quick_config, examples_dir):
    assert grade(examples_dir / "bug_pad_slice.py", quick_config).what_if is None


def test_what_if_is_untimed_and_bounded(quick_config, monkeypatch):
    """The repaired copy runs the correctness checks only, under the what-if deadline."""
    from grader.sandbox.process import ProcessSandbox

    jobs = []
    original = ProcessSandbox.run

    def spy(self, job):
        jobs.append(job)
        return original(self, job)

    monkeypatch.setattr(ProcessSandbox, "run", spy)
    config = quick_config.model_copy(update={"what_if": WhatIfSettings(deadline_s=25)})
    result = grade_submission(MECHANICAL / "numpy_alias.py", ProcessSandbox(), config, seed=SEED)
    assert result.what_if is not None
    graded, repaired = jobs
    assert graded.harness_config["timing"]["enabled"] is True
    assert repaired.harness_config["timing"]["enabled"] is False
    assert 20 < repaired.deadline_s <= 25 and repaired.harness_config["limits"]["deadline_s"] == repaired.deadline_s
    assert repaired.harness_config["seed"] == graded.harness_config["seed"]


def test_the_cli_says_the_hint_and_the_what_if_once(tmp_path, quick_config):
    import subprocess
    import sys

    config = tmp_path / "quick.json"
    config.write_text(quick_config.model_dump_json())
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(MECHANICAL / "unused_matplotlib.py"),
                           "--config", str(config), "--seed", str(SEED), "--out", str(tmp_path / "r.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("matplotlib is not installed in the grading environment") == 1
    assert "  ... and 37 checks not run" in done.stderr and "FAILED" in done.stderr
    assert done.stderr.count("FAILED") == 1
    assert done.stderr.count("what-if (not scored): With these 2 mechanical fixes, your convolution would pass "
                             "31 of 37 checks") == 1


def test_a_course_turns_what_if_off_in_its_config(tmp_path):
    path = tmp_path / "course.json"
    path.write_text('{"what_if": {"enabled": false}}')
    config = GradingConfig.load(path)
    assert config.what_if.enabled is False
    assert config.config_hash() != GradingConfig().config_hash()
    path.write_text('{"what_if": {"deadline_s": 0}}')
    with pytest.raises(Exception, match="deadline_s"):
        GradingConfig.load(path)


def test_a_what_if_bug_never_costs_the_grade(quick_config, monkeypatch):
    from grader.grading import whatif

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(whatif, "what_if", broken)
    result = grade(MECHANICAL / "py2_division.py", quick_config)
    without = grade(MECHANICAL / "py2_division.py",
                    quick_config.model_copy(update={"what_if": WhatIfSettings(enabled=False)}))
    assert result.what_if is None and result.score == without.score
    assert result.notes[-1] == ("what-if feedback could not be produced (a grader error, not your code): "
                                "RuntimeError: boom")


def test_every_copy_shares_one_what_if_budget(quick_config, monkeypatch):
    """Both sides of a conflict and every round share what_if.deadline_s: a copy that would
    start with less than MIN_COPY_S left is reported as not graded, not run."""
    from grader.grading import whatif

    # The first copy starts with nearly 30 s (the repair before it takes well under 0.5 s), the
    # second with less than 29.5 (a copy's grading starts two workers: more than 0.5 s).
    monkeypatch.setattr(whatif, "MIN_COPY_S", 29.5)
    config = quick_config.model_copy(update={"what_if": WhatIfSettings(deadline_s=30)})
    result = grade(MECHANICAL / "merge_conflict.py", config)
    first, second = result.what_if.variants
    assert first.checks and first.error is None
    assert second.checks == [] and second.error.startswith("the copy was not graded: the what-if time limit (30 s)")


@pytest.mark.docker
@pytest.mark.parametrize("example", ["unused_matplotlib.py", "merge_conflict.py"])
def test_docker_gives_the_same_what_if(example, quick_config):
    """The repaired copy runs in the submission's own backend: a fresh container."""
    process = grade(MECHANICAL / example, quick_config)
    docker = grade_submission(MECHANICAL / example, get_sandbox("docker"), quick_config, seed=SEED)
    assert docker.gradable and docker.score == process.score
    assert docker.what_if.model_dump() == process.what_if.model_dump()


def test_a_repair_that_would_change_the_code_is_not_made(quick_config):
    """arraypad_used.py calls numpy.lib.arraypad's pad(): the hint says to use np.pad,
    but renaming calls is the student's change to make; there is no what-if."""
    result = grade(MECHANICAL / "arraypad_used.py", quick_config)
    assert "Hint: `numpy.lib.arraypad` / `np.lib.pad` no longer exist in NumPy 2: use `np.pad`" in \
        result.failure.message
    assert result.what_if is None


def test_the_leaderboard_is_the_same_with_or_without_what_if(quick_config, examples_dir):
    from grader.publish.leaderboard import build_leaderboard

    results = [grade(examples_dir / "fast_strided.py", quick_config)]
    results += [grade(MECHANICAL / name, quick_config) for name in ("py2_division.py", "merge_conflict.py")]
    assert [r.what_if is not None for r in results] == [False, True, True]
    stripped = [r.model_copy(update={"what_if": None}) for r in results]
    with_what_if = build_leaderboard(results, generated_at="2026-11-28T00:00:00+00:00")
    without = build_leaderboard(stripped, generated_at="2026-11-28T00:00:00+00:00")
    assert with_what_if.model_dump() == without.model_dump()


def test_a_notebooks_repairs_are_told_by_cell_and_line(tmp_path, quick_config):
    """A notebook that loads (its module is generated from the cells): the what-if repairs
    that module, and names each repair by the cell and the line in the cell."""
    source = (MECHANICAL / "numpy_alias.py").read_text()
    intro = {"cell_type": "markdown", "metadata": {}, "source": "# Convolutional networks"}
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_text(json.dumps({"cells": [intro, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = grade(path, quick_config)
    assert any("`np.int` was removed from NumPy" in c.message for c in result.checks)
    [variant] = result.what_if.variants
    expected = verdicts(grade(REPAIRED / "numpy_alias.py", quick_config))
    assert {c.id: c.passed for c in variant.checks} == expected
    alias_lines = [n for n, line in enumerate(source.split("\n"), start=1) if "np.int(" in line or "dtype=np.float" in line]
    assert [(r.file, r.line, r.rule) for r in variant.repairs] == [
        ("notebook cell 2", n, "numpy_alias") for n in alias_lines]


def test_the_python2_notebooks_other_cells_are_repaired_too(quick_config):
    """Cell 3 stops the load; cells 5 and 6 are Python 2 as well, and get the same rules."""
    result = grade(MECHANICAL / "python2_notebook.ipynb", quick_config)
    [variant] = result.what_if.variants
    assert [(r.file, r.line) for r in variant.repairs if r.rule == "python2_print"] == [
        ("notebook cell 3", 7), ("notebook cell 5", 18), ("notebook cell 6", 4)]
    assert "backward wrong in 3 of 27 checks (dx has shape (1, 3, 0, 0)" in variant.verdict


def test_a_python2_package_is_repaired_as_a_whole(quick_config):
    """layers.py imports its neighbours the Python 2 way: they are in the submission, so the
    imports become relative, and the neighbours get the same repairs (fast_layers.py does not parse)."""
    result = grade(MECHANICAL / "python2_package", quick_config)
    [variant] = result.what_if.variants
    assert [(r.file, r.line, r.after) for r in variant.repairs if r.rule == "implicit_relative_import"] == [
        ("cs231n/layers.py", 4, "from .im2col import *"), ("cs231n/layers.py", 5, "from .fast_layers import pad_input")]
    assert {(r.file, r.rule) for r in variant.repairs} >= {("cs231n/fast_layers.py", "python2_print"),
                                                           ("cs231n/im2col.py", "xrange")}
    assert variant.passed == variant.total == 37 and variant.error is None
    assert "not in your submission" not in json.dumps(result.model_dump(mode="json"))


def test_a_zipped_python2_package_gets_the_same_what_if(tmp_path, quick_config):
    """A zip's files are seen only once staged: im2col.py is found beside layers.py there,
    and the copy's next round imports it relatively, never calling it missing."""
    import zipfile

    folder = MECHANICAL / "python2_package"
    path = tmp_path / "python2_package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*.py")):
            archive.write(file, file.relative_to(folder).as_posix())
    result = grade(path, quick_config)
    [variant] = result.what_if.variants
    from_folder = grade(folder, quick_config).what_if.variants[0]
    assert [(r.file, r.line, r.rule) for r in variant.repairs] == [(r.file, r.line, r.rule) for r in from_folder.repairs]
    assert variant.passed == variant.total == 37 and variant.error is None
    assert "not in your submission" not in json.dumps(result.model_dump(mode="json"))


SCIPY_MESSAGE = ("importing scipy_signal.py failed: ModuleNotFoundError: No module named 'scipy'\n"
                 "Traceback (your code):\n  File \"scipy_signal.py\", line 8, in <module>\n    from scipy import signal\n"
                 "ModuleNotFoundError: No module named 'scipy'\n"
                 "Hint: scipy is not installed in the grading environment; scipy_signal.py uses it (imported at line 8): "
                 "remove that code, or ask staff to add it")


def test_a_scipy_convolution_needs_the_course_to_allow_scipy(quick_config, request):
    """scipy_signal.py is a correct convolution on scipy.signal. The grader's environment has
    scipy (a test extra), the course's does not by default: the import fails, as in the Docker
    image, with the usual hint, and no what-if (the import is used: nothing to repair).
    With scipy in the configuration's `packages` the same file scores 100."""
    result = grade(MECHANICAL / "scipy_signal.py", quick_config)
    document = result.model_dump(mode="json")
    jsonschema.validate(document, SCHEMA)
    assert result.score == 0 and result.failure.kind.value == "student"
    assert result.failure.message == SCIPY_MESSAGE
    assert [c.id for c in result.checks if c.status.value == "failed" and not c.message.startswith("not run: ")] == \
        ["load"]
    assert result.what_if is None
    golden = GOLDEN_DIR / "scipy_signal.json"
    actual = json.dumps(masked(document), indent=2, sort_keys=True) + "\n"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert comparable(actual) == comparable(golden.read_text()), "scipy_signal differs from scipy_signal.json"

    allowed = quick_config.model_copy(update={"packages": ["scipy"]})
    assert allowed.config_hash() != quick_config.config_hash()  # a course that adds scipy regrades its class
    result = grade(MECHANICAL / "scipy_signal.py", allowed)
    assert result.score == 100 and result.failure is None, [c.message[:300] for c in result.checks if c.message][:3]
