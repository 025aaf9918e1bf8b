"""A class folder refused before anyone is graded: student ids that two entries give (the
batch's grading runs: tests/test_batch.py, tests/test_batch_outputs.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch.grade_all import grade_all
from grader.errors import UsageError

EXAMPLES = Path(__file__).resolve().parents[3] / "submissions" / "examples"
BROKEN_SOURCE = "import numpy as np\n\ndef conv_forward_naive(x, w, b, conv_param):\n    return (\n"


def small_class(folder: Path, **sources: str) -> Path:
    """A folder of .py files: name -> "fast" (a copy of fast_strided), "broken" or source text."""
    folder.mkdir(parents=True)
    for name, source in sources.items():
        if source == "fast":
            source = (EXAMPLES / "fast_strided.py").read_text()
        elif source == "broken":
            source = BROKEN_SOURCE
        (folder / f"{name}.py").write_text(source)
    return folder


def test_duplicate_ids_are_refused_naming_both(tmp_path, quick_config):
    folder = small_class(tmp_path / "subs", alice="broken")
    with zipfile.ZipFile(folder / "Alice.zip", "w") as archive:
        archive.writestr("layers.py", BROKEN_SOURCE)
    with pytest.raises(UsageError, match=r"Alice\.zip and alice\.py both give the student id 'alice'"):
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, progress=False)
    assert not (tmp_path / "out").exists()


def test_every_duplicate_id_is_reported_at_once(tmp_path, quick_config):
    folder = small_class(tmp_path / "subs", alice="broken", bob="broken", carol="broken")
    (folder / "Alice.ipynb").write_text("{}")
    (folder / "BOB.py").write_text("x = 1\n")
    (folder / "bob").mkdir()
    (folder / "bob" / "layers.py").write_text("x = 1\n")
    with pytest.raises(UsageError) as caught:
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, progress=False)
    message = str(caught.value)
    assert message.startswith("2 student id(s) given by more than one entry")
    assert "Alice.ipynb and alice.py both give the student id 'alice'" in message
    assert "BOB.py and bob and bob.py all give the student id 'bob'" in message
