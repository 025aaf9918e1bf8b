"""Notebooks graded end to end: the helpers a conv cell needs are there, and a failure
points at the notebook's cell and line, not at the module the grader generated."""

from __future__ import annotations

import json
from pathlib import Path

from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def write_notebook(path: Path, cells: list[dict]) -> Path:
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def split_fast_strided() -> tuple[str, str]:
    """The fast example's source, with its np.pad calls going through a module-level lambda."""
    source = (EXAMPLES / "fast_strided.py").read_text()
    assert "np.pad(" in source
    return source.replace("np.pad(", "pad4("), "pad4 = lambda *args, **kwargs: np.pad(*args, **kwargs)\n"


def test_a_lambda_helper_cell_is_kept_and_the_notebook_scores_full_marks(tmp_path, quick_config):
    layers, helper = split_fast_strided()
    path = write_notebook(tmp_path / "ConvolutionalNetworks.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": "# Convolutional networks"},
        code_cell("import numpy as np\n" + helper + "x = np.random.randn(2, 3, 4, 4)\n"),
        code_cell(layers),
        code_cell("out, _ = conv_forward_naive(x, x, x, {'stride': 1, 'pad': 1})\nprint(out.shape)\n"),
    ])

    result = grade_submission(path, get_sandbox("process"), quick_config, seed=3)

    assert result.score == 100, [c.message for c in result.checks if c.status.value == "failed"][:2]
    assert "notebook: dropped cell 2, line 3, `x = np.random.randn(2, 3, 4, 4)`: it runs code at import " \
           "(a call: np.random.randn(2, 3, 4, 4))" in result.notes


def test_a_failure_points_at_the_notebook_cell_and_line(tmp_path, quick_config):
    forward = (
        "def conv_forward_naive(x, w, b, conv_param):\n"
        "    scale = 1.0\n"
        "    return x / undefined_helper, None\n"
    )
    path = write_notebook(tmp_path / "conv.ipynb", [
        code_cell("import numpy as np\n"),
        {"cell_type": "markdown", "metadata": {}, "source": "text"},
        code_cell("undefined_helper = make_helper()\n"),
        code_cell("# forward pass\n" + forward),
    ])

    result = grade_submission(path, get_sandbox("process"), quick_config, seed=3)

    message = next(c.message for c in result.checks if c.id == "forward/notebook-forward")
    assert "NameError: name 'undefined_helper' is not defined" in message
    assert "notebook cell 4, line 4, in conv_forward_naive" in message, message
    assert "submission.py" not in message
    assert ("notebook: dropped cell 3, line 1, `undefined_helper = make_helper()`: it runs code at import (a call: "
            "make_helper()); your functions use undefined_helper, which will then be undefined (NameError)"
            in result.notes)
