"""Claiming a private uid base: a lock file another user made unreadable is passed over, and when
every one is, the grader says what to do instead of waiting forever."""

from __future__ import annotations

import os

import pytest

from grader.errors import SandboxUnavailable
from grader.sandbox import base


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "UID_LOCK_DIRS", (str(tmp_path),))
    monkeypatch.setattr(base, "_claimed", [])  # this process claims afresh, and lets go after the test
    yield tmp_path
    for _, fd in base._claimed:
        os.close(fd)


def refuse(paths: set[str], monkeypatch):
    """Opening these lock files fails as it does for another user's 0600 file."""
    real_open = os.open

    def open_(path, *args, **kwargs):
        if str(path) in paths:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(base.os, "open", open_)


def every_lock_path(folder) -> list[str]:
    count = (base.UID_RANGE[1] - base.UID_RANGE[0]) // (2 * base.MAX_SLOTS)
    return [str(folder / f"convgrade-uids-{base.UID_RANGE[0] + 2 * base.MAX_SLOTS * i}.lock") for i in range(count)]


def test_an_unreadable_lock_file_is_passed_over(lock_dir, monkeypatch):
    paths = every_lock_path(lock_dir)
    refuse(set(paths[1:]), monkeypatch)  # only the first base is ours to take
    assert base.private_uid_pair(0) == base.UID_RANGE[0]
    assert oct(os.stat(paths[0]).st_mode & 0o777) == oct(0o644)


def test_when_every_lock_file_is_unreadable_the_grader_says_so(lock_dir, monkeypatch):
    refuse(set(every_lock_path(lock_dir)), monkeypatch)
    with pytest.raises(SandboxUnavailable, match="belongs to another user and is unreadable.*remove them"):
        base.private_uid_pair(0)
