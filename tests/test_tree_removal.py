"""Removing a grading's scratch (grader.harness.tree_removal) as a plain user would: folders
the student made unreadable or read-only, links out of the tree, depth past the recursion
limit; and what cannot be removed is reported, never silently left."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.harness.tree_removal import MAX_NAMED, remove_tree

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="O_PATH and /proc/self/fd are Linux's")


@pytest.fixture
def as_plain_user():
    """Root passes every permission check, which would hide the bug: drop to nobody's
    effective uid (the real uid stays root, to come back)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def base():
    """A folder nobody may work in (pytest's own tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="tree-removal-"))
    os.chmod(folder, 0o777)
    yield folder
    subprocess.run(["chmod", "-R", "u+rwx", str(folder)], capture_output=True)
    subprocess.run(["rm", "-rf", str(folder)], capture_output=True)  # rmtree recurses: not for the deep tree


def _scratch_with_locked_folders(scratch: Path, outside: Path) -> None:
    """What a student can leave in its scratch under its own uid."""
    (scratch / "student" / "locked" / "inner").mkdir(parents=True)
    (scratch / "student" / "locked" / "inner" / "fill.bin").write_bytes(b"\0" * 4096)
    (scratch / "student" / "readonly").mkdir()
    (scratch / "student" / "readonly" / "kept.txt").write_text("x")
    (scratch / "student" / "link-out").symlink_to(outside)  # a link to a folder outside the tree
    (scratch / "student" / "locked" / "link-out").symlink_to(outside)
    os.chmod(scratch / "student" / "locked" / "inner", 0o000)
    os.chmod(scratch / "student" / "locked", 0o000)
    os.chmod(scratch / "student" / "readonly", 0o500)


def test_locked_folders_are_removed_and_links_out_are_not_followed(base, as_plain_user):
    outside = base / "outside"
    outside.mkdir(mode=0o750)
    os.chmod(outside, 0o750)
    (outside / "precious.txt").write_text("keep me")
    scratch = base / "convgrade-run-x"
    _scratch_with_locked_folders(scratch, outside)

    left = remove_tree(str(scratch))

    assert not left and left.named == [], left
    assert not scratch.exists()
    assert (outside / "precious.txt").read_text() == "keep me"
    assert stat.S_IMODE(outside.stat().st_mode) == 0o750  # its mode was not "restored" through a link


def test_a_tree_deeper_than_the_recursion_limit_is_removed(base, as_plain_user):
    scratch = base / "deep"
    folder = scratch
    folder.mkdir()
    fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(3 * sys.getrecursionlimit()):  # made relative to each other: paths past PATH_MAX
            os.mkdir("d", dir_fd=fd)
            os.chmod("d", 0o300, dir_fd=fd)  # writable and searchable, not listable
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY | os.O_PATH, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)

    left = remove_tree(str(scratch))

    assert not left, left
    assert not scratch.exists()


def test_what_cannot_be_removed_is_reported(base):
    """An entry the remover may not touch (here a folder of another user, which even its owner's
    rwx cannot be given back by us) stays, and is named; the count covers every one."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make another user's folder")
    scratch = base / "scratch"
    scratch.mkdir()
    for index in range(MAX_NAMED + 2):
        theirs = scratch / f"theirs-{index}"
        theirs.mkdir()
        (theirs / "file").write_text("x")
        os.chown(theirs, 0, 0)
        os.chmod(theirs, 0o755)
    os.chown(scratch, 65534, 65534)
    os.seteuid(65534)
    try:
        left = remove_tree(str(scratch))
    finally:
        os.seteuid(0)
    assert left.count == MAX_NAMED + 2, left  # each file; the folders above them are not named again
    assert len(left.named) == MAX_NAMED
    assert left.named[0].startswith(str(scratch / "theirs-")) and left.named[0].endswith("/file (Permission denied)"), \
        left.named


def test_a_missing_path_or_a_link_is_no_error(base):
    assert not remove_tree(str(base / "missing"))
    target = base / "target"
    target.mkdir()
    (base / "link").symlink_to(target)
    assert not remove_tree(str(base / "link"))
    assert target.is_dir() and not (base / "link").exists()
