"""The sandbox image built for real: build-once, and the app dir hidden from students (the
context hash and the pins: tests/unit/sandbox/test_image.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.sandbox import image


STUDENT = "20001:20001"


@pytest.fixture(scope="module")
def frozen_repo(tmp_path_factory) -> Path:
    """A snapshot of the image's sources, so edits made meanwhile cannot change the hash."""
    root = tmp_path_factory.mktemp("frozen")
    shutil.copy2(image.REPO_ROOT / "Dockerfile", root / "Dockerfile")
    (root / "grader").mkdir()
    shutil.copy2(image.REPO_ROOT / "grader" / "__init__.py", root / "grader" / "__init__.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for rel in image.CONTEXT_DIRS:
        if (image.REPO_ROOT / rel).is_dir():
            shutil.copytree(image.REPO_ROOT / rel, root / rel, ignore=ignore)
    return root


@pytest.fixture(scope="module")
def built_image(docker_client, frozen_repo, tmp_path_factory) -> str:
    ctx = tmp_path_factory.mktemp("ctx") / "docker-context"
    return image.ensure_image(client=docker_client, repo_root=frozen_repo, context_dir=ctx, log=None)


@pytest.mark.docker
@pytest.mark.slow
def test_ensure_image_is_a_noop_the_second_time(docker_client, frozen_repo, built_image, tmp_path):
    before = docker_client.images.get(built_image).id
    messages: list[str] = []
    builds: list[object] = []
    real_build = image._build
    image._build = lambda *a, **k: builds.append(a)  # must not be reached
    try:
        tag = image.ensure_image(client=docker_client, repo_root=frozen_repo,
                                 context_dir=tmp_path / "docker-context", log=messages.append)
    finally:
        image._build = real_build
    assert tag == built_image
    assert builds == []
    assert messages == [f"image {tag} is up to date"]
    assert docker_client.images.get(tag).id == before
    assert docker_client.images.get("convgrade:latest").id == before


@pytest.mark.docker
@pytest.mark.slow
def test_app_dir_is_unreadable_to_the_student_uid(docker_client, built_image):
    script = (
        "ls /opt/convgrade/app >/dev/null 2>&1; echo ls=$?; "
        "cat /opt/convgrade/app/grader/__init__.py >/dev/null 2>&1; echo cat=$?; "
        "cd /tmp && python3 -c 'import numpy, threadpoolctl; print(\"np=\" + numpy.__version__)'"
    )
    out = docker_client.containers.run(
        built_image, ["sh", "-c", script], user=STUDENT, network_mode="none", remove=True,
    ).decode()
    assert "ls=0" not in out and "ls=" in out, out
    assert "cat=0" not in out and "cat=" in out, out
    # ...while numpy (site-packages) stays world-readable for the student worker.
    assert f"np={image.pinned_requirements()['numpy']}" in out, out

    # The harness itself, as root, can read it.
    root_out = docker_client.containers.run(
        built_image, ["sh", "-c", "ls /opt/convgrade/app"], network_mode="none", remove=True,
    ).decode()
    assert "grader" in root_out and "reference" in root_out, root_out
