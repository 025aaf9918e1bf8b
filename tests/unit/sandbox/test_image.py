"""The sandbox image's context: its hash, the course's packages in it, and the Dockerfile's pins
(build-once and the app dir hidden from students need Docker: tests/test_image.py)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from pathlib import Path

import pytest

from grader.sandbox import image


def _fake_repo(root: Path) -> Path:
    """A minimal repo: the real Dockerfile, a harness and a reference we can edit."""
    (root / "grader" / "harness").mkdir(parents=True)
    (root / "reference").mkdir()
    shutil.copy2(image.REPO_ROOT / "Dockerfile", root / "Dockerfile")
    (root / "grader" / "__init__.py").write_text('__version__ = "0"\n')
    (root / "grader" / "harness" / "__init__.py").write_text("")
    (root / "grader" / "harness" / "__main__.py").write_text("print('harness')\n")
    (root / "reference" / "naive.py").write_text("def f(): pass\n")
    return root


@pytest.fixture
def fake_wheel(tmp_path: Path) -> Path:
    whl = tmp_path / "wheelcache" / "numpy-0-cp311-cp311-manylinux_2_28_x86_64.whl"
    whl.parent.mkdir()
    whl.write_bytes(b"not really a wheel")
    return whl


def _hash(repo: Path, ctx: Path, wheels: list[Path]) -> str:
    return image.context_hash(image.build_context(ctx, repo_root=repo, wheels=wheels, log=None))


def test_context_hash_is_stable_and_tracks_harness_changes(tmp_path, fake_wheel):
    repo = _fake_repo(tmp_path / "repo")
    ctx = tmp_path / "ctx"
    first = _hash(repo, ctx, [fake_wheel])
    assert len(first) == 64
    assert _hash(repo, ctx, [fake_wheel]) == first, "same sources, same hash"

    # Bytecode and mtimes are not content: they must not force a rebuild.
    cache = repo / "grader" / "harness" / "__pycache__"
    cache.mkdir()
    (cache / "__main__.cpython-311.pyc").write_bytes(b"\x00junk")
    os.utime(repo / "grader" / "harness" / "__main__.py", (1, 1))
    assert _hash(repo, ctx, [fake_wheel]) == first
    assert not (ctx / "grader" / "harness" / "__pycache__").exists()

    # A changed harness file is a new image.
    (repo / "grader" / "harness" / "__main__.py").write_text("print('harness v2')\n")
    changed = _hash(repo, ctx, [fake_wheel])
    assert changed != first

    # So is a new reference file, and a different wheel.
    (repo / "reference" / "strided.py").write_text("def g(): pass\n")
    assert _hash(repo, ctx, [fake_wheel]) != changed


def test_the_courses_packages_are_in_the_context_at_the_installed_versions(tmp_path, fake_wheel):
    """A configuration's `packages` (what students may import besides numpy) reach the image:
    pinned, with what they require, to the versions the process backend's workers import;
    numpy keeps the Dockerfile's pin. Each package set is its own context, its own image."""
    pytest.importorskip("scipy")
    repo = _fake_repo(tmp_path / "repo")
    plain = image.build_context(tmp_path / "plain", repo_root=repo, wheels=[fake_wheel], log=None)
    assert (plain / "wheels" / "packs.txt").read_text() == ""
    course = image.build_context(tmp_path / "course", repo_root=repo, wheels=[fake_wheel], packages=("scipy",),
                                 log=None)
    assert (course / "wheels" / "packs.txt").read_text() == f"scipy=={importlib.metadata.version('scipy')}\n"
    assert image.context_hash(course) != image.context_hash(plain)
    with pytest.raises(image.SandboxUnavailable, match="packages no-such-distribution are not installed in the "
                                                       "grader's environment"):
        image.build_context(tmp_path / "none", repo_root=repo, wheels=[fake_wheel],
                            packages=("no-such-distribution",), log=None)


def test_context_copes_with_a_missing_harness(tmp_path, fake_wheel):
    repo = _fake_repo(tmp_path / "repo")
    shutil.rmtree(repo / "grader" / "harness")
    ctx = image.build_context(tmp_path / "ctx", repo_root=repo, wheels=[fake_wheel], log=None)
    assert (ctx / "grader" / "harness").is_dir()  # empty, so the Dockerfile's COPY still works


def test_dockerfile_pins_match_the_venv():
    pins = image.pinned_requirements()
    for dist in ("numpy", "threadpoolctl"):
        assert pins[dist] == importlib.metadata.version(dist), (
            f"Dockerfile pins {dist}=={pins[dist]} but the venv has {importlib.metadata.version(dist)}"
        )
