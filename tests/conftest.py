"""Shared fixtures.

Docker: tests marked ``@pytest.mark.docker`` get the ``docker_client`` fixture
automatically. With no reachable engine they are skipped, with the reason, unless
``CI`` is set: then they fail loudly, since a CI run that silently skipped the
sandbox would prove nothing about it.
"""

from __future__ import annotations

import os

import pytest


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def docker_client():
    """A docker SDK client for a reachable engine (skip, or fail under CI, without one)."""
    client, reason = None, ""
    try:
        import docker

        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as exc:  # ImportError, DockerException, connection errors
        reason = f"no Docker engine reachable: {type(exc).__name__}: {exc}"
    if reason:
        if _ci():
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(f"{reason} (set CI=1 to make this a failure)")
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _docker_marker_needs_engine(request):
    """Every ``docker``-marked test skips (or fails under CI) without an engine."""
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_client")


@pytest.fixture(scope="session", autouse=True)
def _machine_cache(tmp_path_factory):
    """The session's own machine cache (grader.grading.machine_cache), never the user's: the first
    timed grading of a size measures the machine figures, the later ones reuse them."""
    previous = os.environ.get("CONVGRADE_MACHINE_CACHE")
    os.environ["CONVGRADE_MACHINE_CACHE"] = str(tmp_path_factory.mktemp("machine") / "machine.json")
    yield
    if previous is None:
        del os.environ["CONVGRADE_MACHINE_CACHE"]
    else:
        os.environ["CONVGRADE_MACHINE_CACHE"] = previous


@pytest.fixture(scope="session")
def quick_config():
    """A grading configuration for tests: every check, but a short timing phase on a
    small input (three trials spread over two worker pairs, no warm-up budget), so a grading takes
    a second or two even for loop solutions."""
    from grader.grading.config import GradingConfig, TimingSettings

    return GradingConfig(timing=TimingSettings(size="small", budget_s=0.2, min_trials=3, max_trials=3, warmup_s=0.0,
                                               pairs=2))


@pytest.fixture(scope="session")
def examples_dir():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "submissions" / "examples"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.json from this run")
