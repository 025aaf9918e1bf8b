"""Bad input, end to end: each gets a specific message (with a hint where one helps),
the score the rubric gives, and never a crash of the grader."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
FAST = (EXAMPLES / "fast_strided.py").read_text()
LOOPS = (EXAMPLES / "naive_loops.py").read_text()  # keeps the template's cache (x, w, b, conv_param)
FORWARD_ONLY = FAST[: FAST.index("def conv_backward_naive")]


def grade(path: Path, config):
    result = grade_submission(path, get_sandbox("process"), config, seed=11)
    assert result.gradable
    return result


def failed(result, prefix: str = "") -> list[str]:
    return [c.message for c in result.checks if c.status.value == "failed" and c.id.startswith(prefix)]


def group_score(result, *groups: str) -> float:
    return sum(c.max_score for c in result.checks if c.group in groups)


@pytest.mark.parametrize("source, hint", [
    pytest.param(FAST + "\nLEGACY = np.int(3)\n", "`np.int` was removed from NumPy", id="np-int-at-import"),
    pytest.param("from numpy.lib.arraypad import pad\n" + FAST, "use `np.pad`", id="arraypad-at-import"),
    pytest.param("from past.builtins import xrange\n" + FAST, "Python 2 compatibility package", id="past-builtins"),
])
def test_import_failures_fail_one_load_check_with_the_hint_once(tmp_path, quick_config, source, hint):
    path = tmp_path / "layers.py"
    path.write_text(source)
    result = grade(path, quick_config)
    assert result.score == 0
    assert result.max_score == pytest.approx(100)
    assert result.failure.kind.value == "student"
    assert hint in result.failure.message
    load, *others = result.checks
    assert (load.id, load.status.value, load.max_score) == ("load", "failed", 0)
    assert sum(hint in message for message in failed(result)) == 1 and hint in load.message
    assert {c.message for c in others} == {
        "not run: layers.py could not be imported (see the check 'the submission loads')"}
    assert [t.reason for t in result.timing] == ["not timed: the module could not be imported"] * 2


@pytest.mark.parametrize("source, message", [
    pytest.param("", "no file defines conv_forward_naive or conv_backward_naive", id="empty-file"),
    pytest.param(FAST + "\ndef broken(:\n    pass\n", "syntax error in layers.py line", id="syntax-error"),
])
def test_load_failures_are_one_check_plus_zeros_in_json_and_gradescope(tmp_path, quick_config, source, message):
    from grader.publish.gradescope import to_gradescope

    path = tmp_path / "layers.py"
    path.write_text(source)
    result = grade(path, quick_config)
    load, *others = result.checks
    assert load.id == "load" and message in load.message
    assert len(others) == 37 and all(c.score == 0 and c.message.startswith("not run: the submission could not be "
                                                                            "loaded") for c in others)
    assert (result.score, result.max_score) == (0, pytest.approx(100))
    gradescope = to_gradescope(result)
    assert [t["name"] for t in gradescope["tests"]][0] == "the submission loads"
    outputs = [t["output"] for t in gradescope["tests"]] + [gradescope["output"]]
    assert sum(load.message in text for text in outputs) == 1


def test_removed_numpy_name_inside_forward_fails_forward_only(tmp_path, quick_config):
    path = tmp_path / "layers.py"
    path.write_text(LOOPS.replace("def conv_forward_naive(x, w, b, conv_param):",
                                 "def conv_forward_naive(x, w, b, conv_param):\n    np.int(1)", 1))
    result = grade(path, quick_config)
    assert all("AttributeError" in m and "`np.int` was removed" in m for m in failed(result, "forward/"))
    assert failed(result, "backward/") == []  # graded with the template's cache instead
    assert result.score == pytest.approx(group_score(result, "backward_notebook", "backward_hidden", "inputs_unchanged"))


def test_missing_function_is_named_and_the_other_is_graded(tmp_path, quick_config):
    path = tmp_path / "forward_only.py"
    path.write_text(FORWARD_ONLY)
    result = grade(path, quick_config)
    assert result.failure.message == "conv_backward_naive not defined in forward_only.py"
    assert set(failed(result, "backward/")) == {"conv_backward_naive is not defined in forward_only.py"}
    assert failed(result, "forward/") == []
    assert result.score == pytest.approx(group_score(result, "forward_notebook", "forward_hidden", "inputs_unchanged"))
    assert [t.measured for t in result.timing] == [True, False]


def test_python2_syntax_scores_zero_with_a_hint(tmp_path, quick_config):
    path = tmp_path / "old.py"
    path.write_text(FAST + '\nprint "done"\n')
    result = grade(path, quick_config)
    assert result.score == 0
    assert "syntax error in old.py line" in result.failure.message
    assert "this looks like Python 2 code" in result.failure.message


def test_notebook_keeps_definitions_and_runs_no_cell(tmp_path, quick_config):
    canary = tmp_path / "canary.txt"
    canary.write_text("alive")
    cells = [
        {"cell_type": "markdown", "source": ["# Convolutional networks"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install nothing\n",
                                         "from cs231n.data_utils import get_CIFAR10_data\n"], "outputs": []},
        {"cell_type": "code", "source": FAST, "outputs": [{"output_type": "stream", "text": "x"}]},
        {"cell_type": "code", "source": [f"import os\nos.remove({str(canary)!r})\n"], "outputs": []},
    ]
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = grade(path, quick_config)
    assert result.score == 100
    assert result.submission.kind == "ipynb"
    assert canary.read_text() == "alive"


def test_cs231n_folder_with_relative_import(tmp_path, quick_config):
    package = tmp_path / "assignment2" / "cs231n"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("import numpy as np\n\ndef unused():\n    return np.zeros(1)\n")
    (package / "layers.py").write_text("from .helpers import unused\n" + FAST + "\ndef affine_forward(x, w, b):\n    pass\n")
    (tmp_path / "assignment2" / "README.txt").write_text("not code")
    result = grade(tmp_path / "assignment2", quick_config)
    assert result.submission.entry == "cs231n/layers.py"
    assert result.score == 100


def test_zip_escaping_its_folder_scores_zero(tmp_path, quick_config):
    path = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("layers.py", FAST)
        archive.writestr("../../evil.py", "print('escaped')")
    result = grade(path, quick_config)
    assert result.score == 0
    assert "../../evil.py" in result.failure.message
    assert not (tmp_path.parent / "evil.py").exists()


def test_invalid_notebook_json_scores_zero(tmp_path, quick_config):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    result = grade(path, quick_config)
    assert result.score == 0
    assert result.failure.message.startswith("notebook is not valid JSON")


@pytest.mark.slow  # about 12 s: it waits for the total time limit
def test_a_slow_submission_runs_out_of_total_time_without_becoming_not_gradable():
    """Right answers, 2 s per forward call, a 14 s budget: the harness keeps its own
    budget inside the host's deadline, fails what it could not run, and stays gradable."""
    from grader.grading.config import GradingConfig, Limits, TimingSettings

    config = GradingConfig(limits=Limits(deadline_s=14, call_allowance_s=5),
                           timing=TimingSettings(size="small", budget_s=0.2, min_trials=3, max_trials=3, warmup_s=0))
    result = grade(Path(__file__).parent / "submissions" / "slow_but_right.py", config)
    messages = failed(result)
    assert result.wall_time_s < 14
    assert 0 < result.score < 100
    assert any("this grading's total time limit (14 s) was reached" in m for m in messages)
    assert all("total time limit" in m for m in messages), messages
    assert all("template's cache" not in m for m in messages if m.startswith("not run"))
