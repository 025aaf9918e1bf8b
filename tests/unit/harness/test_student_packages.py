"""Which packages a worker may import (grader/harness/student_packages.py): the files a
distribution is made of, what it requires, and the configuration's `packages` setting that adds
to numpy (the view a worker imports from, in a child Python: tests/test_student_packages.py)."""

from __future__ import annotations

import json
import os

import pytest

from grader.grading.config import GradingConfig
from grader.errors import UsageError
from grader.harness import student_packages


def _names(resolved) -> set[str]:
    return {entry.name for entry in resolved.entries}


def test_numpy_comes_with_its_bundled_libraries_and_nothing_else():
    names = _names(student_packages.for_student([]))
    assert "numpy" in names and any(name.startswith("numpy-") and name.endswith(".dist-info") for name in names)
    import numpy

    libs = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    assert ("numpy.libs" in names) == os.path.isdir(libs)
    assert {name.split("-")[0].split(".")[0] for name in names} == {"numpy"}


def test_a_distribution_brings_what_it_requires_but_not_its_extras():
    pytest.importorskip("pydantic")
    names = _names(student_packages.resolve(["pydantic"]))
    assert {"pydantic", "pydantic_core", "annotated_types"} <= names  # required
    assert "email_validator" not in names  # only an extra ("email") requires it


def test_a_missing_distribution_is_named_and_a_missing_requirement_skipped():
    resolved = student_packages.resolve(["numpy", "no-such-distribution"])
    assert resolved.missing == ("no-such-distribution",) and "numpy" in _names(resolved)


def test_the_setting_is_checked_and_regrades_only_when_used(tmp_path):
    assert GradingConfig(packages=["scipy"]).config_hash() != GradingConfig().config_hash()
    assert GradingConfig(packages=[]).config_hash() == GradingConfig().config_hash()
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"packages": ["scipy", "../evil", "a b"]}))
    with pytest.raises(UsageError, match=r"packages: not distribution names: \['../evil', 'a b'\]"):
        GradingConfig.load(path)


