"""Sandbox backends, chosen by name (see ``base`` for the interface)."""

from __future__ import annotations

from grader.errors import UsageError
from grader.sandbox.base import Sandbox

BACKENDS = ("process", "docker")


def get_sandbox(name: str) -> Sandbox:
    if name == "process":
        from grader.sandbox.process import ProcessSandbox

        return ProcessSandbox()
    if name == "docker":
        from grader.sandbox.docker import DockerSandbox

        return DockerSandbox()
    raise UsageError(f"unknown sandbox {name!r}; choose one of {', '.join(BACKENDS)}")
