"""tests/unit: the fast loop (`make test-fast`), tests that start no process.

Every test collected here gets the ``unit`` marker, and a guard that fails it the moment it
tries to start a process (subprocess, multiprocessing, os.fork, posix_spawn, os.system): a
test that needs a worker, a sandbox or a command belongs beside the real parts (tests/,
tests/docker, tests/hostile, ...), and one such test here would make the loop slow again
without anyone noticing. The guard replaces the few primitives every way of starting a
process goes through, so it costs nothing and cannot miss a route: subprocess calls its own
binding of _posixsubprocess.fork_exec (or os.posix_spawn), multiprocessing's spawn and
forkserver call _posixsubprocess.fork_exec, its fork calls os.fork.
"""

from __future__ import annotations

import _posixsubprocess
import os
import subprocess
from pathlib import Path

import pytest

UNIT_ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # This hook sees every item of the session, not only this folder's: mark ours alone.
    for item in items:
        if UNIT_ROOT in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.unit)


class ProcessStarted(AssertionError):
    """A unit test tried to start a process."""


def _refuse(name):
    def refuse(*args, **kwargs):
        raise ProcessStarted(f"a test in tests/unit started a process ({name}); unit tests start none: "
                             "move it out of tests/unit, or give it a FakeSandbox or a stored report")
    return refuse


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch):
    monkeypatch.setattr(_posixsubprocess, "fork_exec", _refuse("fork_exec"))
    monkeypatch.setattr(subprocess, "_fork_exec", _refuse("subprocess"), raising=False)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv", "execve"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse(f"os.{name}"))
