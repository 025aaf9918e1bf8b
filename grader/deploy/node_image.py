"""The cluster node image: the sandbox image plus convgrade and Dask.

    ensure_node_image() -> "convgrade-node:<hash12>", built only when that tag is missing

Scheduler and worker containers (``dask scheduler``, ``convgrade worker``) run it. It is
built FROM the sandbox image (``grader.sandbox.image.ensure_image``), with a wheel of this
checkout and its dependencies downloaded on the host (a build has no network). The tag
hashes the sandbox tag, ``docker/Dockerfile.node``, ``pyproject.toml`` and every file of
``grader/`` and ``reference/``, so nothing is rebuilt when nothing changed.

Run as ``python -m grader.deploy.node_image``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from grader.errors import SandboxUnavailable
from grader.sandbox.image import (BUILD_DIR, HASH_LABEL, REPO_ROOT, WHEEL_ABI, WHEEL_PLATFORMS, WHEEL_PYTHON, Log,
                                  _image_exists, _lock, _stderr, _walk, docker_client, download_wheels,
                                  ensure_image, pinned_requirements)

NODE_IMAGE = "convgrade-node"
NODE_DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile.node"
SOURCES = ("grader", "reference")


def node_hash(sandbox_tag: str, repo_root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256(sandbox_tag.encode() + b"\0")
    sources = [p for source in SOURCES for p in _walk(repo_root / source)
               if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")]
    for path in [NODE_DOCKERFILE, repo_root / "pyproject.toml"] + sources:
        digest.update(str(path.relative_to(repo_root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pip(args: list[str], what: str) -> None:
    process = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if process.returncode != 0:
        raise SandboxUnavailable(f"cannot {what}: {process.stderr.strip()[-2000:]}")


def build_node_context(context_dir: Path, repo_root: Path = REPO_ROOT, log: Log | None = _stderr) -> Path:
    """Dockerfile + wheels/: convgrade's own wheel, its dependencies, and pip's wheel."""
    if context_dir.exists():
        shutil.rmtree(context_dir)  # our own build folder: files we wrote, nothing mounted
    wheels = context_dir / "wheels"
    wheels.mkdir(parents=True)
    shutil.copy(NODE_DOCKERFILE, context_dir / "Dockerfile")
    if log:
        log("building the convgrade wheel and downloading its dependencies")
    _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(repo_root)], "build the convgrade wheel")
    pins = pinned_requirements(repo_root / "Dockerfile")
    cache = BUILD_DIR / "wheels" / f"node-{WHEEL_ABI}"
    download = ["download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:", "--python-version",
                WHEEL_PYTHON, "--implementation", "cp", "--abi", WHEEL_ABI, "--dest", str(cache)]
    for platform in WHEEL_PLATFORMS + ("manylinux_2_17_x86_64",):
        download += ["--platform", platform]
    convgrade_wheel = next(wheels.glob("convgrade-*.whl"))
    # The sandbox image's numpy and threadpoolctl must satisfy convgrade: pin them to it.
    _pip(download + [str(convgrade_wheel)] + [f"{name}=={version}" for name, version in pins.items()
                                              if name != "pip"], "download the node image's wheels")
    for wheel in cache.glob("*.whl"):
        if not wheel.name.startswith("convgrade-"):
            shutil.copy(wheel, wheels / wheel.name)
    for wheel in download_wheels({"pip": pins["pip"]}, log=log):
        shutil.copy(wheel, wheels / wheel.name)
    return context_dir


def ensure_node_image(*, client: Any | None = None, log: Log | None = _stderr) -> str:
    client = client or docker_client()
    sandbox_tag = ensure_image(client=client, log=log)
    full_hash = node_hash(sandbox_tag)
    tag = f"{NODE_IMAGE}:{full_hash[:12]}"
    context_dir = BUILD_DIR / "node-context"
    context_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock(BUILD_DIR / ".node-context.lock"):
        image = _image_exists(client, tag)
        if image is not None and image.labels.get(HASH_LABEL) == full_hash:
            return tag
        build_node_context(context_dir, log=log)
        if log:
            log(f"building {tag} on {sandbox_tag}")
        stream = client.api.build(path=str(context_dir), tag=tag, buildargs={"SANDBOX_IMAGE": sandbox_tag},
                                  pull=False, rm=True, forcerm=True, network_mode="none", decode=True,
                                  labels={HASH_LABEL: full_hash})
        tail: list[str] = []
        for chunk in stream:
            if "error" in chunk:
                raise SandboxUnavailable(f"docker build of {tag} failed: {chunk['error']}\n" + "".join(tail[-20:]))
            tail.append(chunk.get("stream", ""))
        return tag


if __name__ == "__main__":
    print(ensure_node_image())
