"""The harness's scratch folder with a mount inside is never deleted (it mounts: the other
units of the harness are in tests/unit/harness/test_harness_units.py)."""

from __future__ import annotations

import os

import pytest


def test_scratch_with_a_mount_inside_is_never_deleted(tmp_path):
    """A bind mount under a folder being deleted would take the real files with it."""
    import subprocess

    from grader.sandbox.process import remove_unless_mounted

    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    scratch, precious = tmp_path / "scratch", tmp_path / "precious"
    (scratch / "held").mkdir(parents=True)
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    subprocess.run(["mount", "--bind", str(precious), str(scratch / "held")], check=True)
    try:
        remove_unless_mounted(str(scratch))
        assert (precious / "keep.txt").read_text() == "keep" and scratch.exists()
    finally:
        subprocess.run(["umount", str(scratch / "held")], check=True)
    remove_unless_mounted(str(scratch))
    assert not scratch.exists() and (precious / "keep.txt").exists()
