"""The sandbox image: assemble its build context, hash it, build it once.

    ensure_image()          -> "convgrade:<hash12>", built only if that tag is missing
      build_context()       -> build/docker-context/: Dockerfile, grader/__init__.py,
                               grader/harness/**, reference/**, wheels/ (no .pyc)
        pinned_requirements()  the pins the Dockerfile declares (ARG *_VERSION=...)
        course_requirements()  the configuration's `packages` (what students may import
                               besides numpy) at the versions installed here, with what
                               they require: their wheels join the context, so each
                               course's package set is its own image (its own hash)
        download_wheels()      pip download for CPython 3.11 manylinux x86_64, cached
      context_hash()        sha256 over the context's paths, exec bits and contents
      choose_base()         python:3.11-slim if present or pullable, else
                            convgrade-base:bookworm made by docker/build-base.sh

The tag is a pure function of the context, so re-running with nothing changed does no
work, and the docker backend can call ``ensure_image()`` before every batch. The base
image is not part of the hash (it is recorded in a label): the same context built on
either base gives the same harness, numpy and references.

Run as ``python -m grader.sandbox.image`` (``make image``); ``--hash-only`` prints the
context hash without touching Docker.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.errors import SandboxUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "build"

IMAGE_NAME = "convgrade"
DEFAULT_BASE = "python:3.11-slim"
LOCAL_BASE = "convgrade-base:bookworm"
BUILD_BASE_SCRIPT = REPO_ROOT / "docker" / "build-base.sh"

HASH_LABEL = "org.convgrade.context-hash"
BASE_LABEL = "org.convgrade.base-image"

# The image's python: CPython 3.11 on glibc >= 2.28 (both bases are Debian bookworm,
# glibc 2.36). numpy 2.x ships manylinux_2_27/2_28 wheels only, so manylinux2014 alone
# finds nothing; it stays listed for packages that still ship only that tag.
WHEEL_PYTHON = "3.11"
WHEEL_ABI = "cp311"
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")

# What the context holds, relative to the repo root; directories are copied whole.
CONTEXT_FILES = ("Dockerfile", "grader/__init__.py")
CONTEXT_DIRS = ("grader/harness", "reference")
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".DS_Store"}
SKIP_SUFFIXES = (".pyc", ".pyo")

# Dockerfile pins: ARG NAME_VERSION=x.y.z -> distribution name.
PINNED_ARGS = {"NUMPY_VERSION": "numpy", "THREADPOOLCTL_VERSION": "threadpoolctl", "PIP_VERSION": "pip",
               "LINE_PROFILER_VERSION": "line_profiler", "TYPING_EXTENSIONS_VERSION": "typing_extensions"}

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the build context


def pinned_requirements(dockerfile: Path = REPO_ROOT / "Dockerfile") -> dict[str, str]:
    """The versions the Dockerfile pins, as {distribution: version}."""
    pins: dict[str, str] = {}
    for line in dockerfile.read_text().splitlines():
        m = re.match(r"\s*ARG\s+([A-Z_]+)=(\S+)\s*$", line)
        if m and m.group(1) in PINNED_ARGS:
            pins[PINNED_ARGS[m.group(1)]] = m.group(2)
    missing = sorted(set(PINNED_ARGS.values()) - set(pins))
    if missing:
        raise ValueError(f"{dockerfile}: no ARG pin for {', '.join(missing)}")
    return pins


def _wheel_prefix(name: str, version: str) -> str:
    # Wheel file names escape runs of -_. in the project name as a single underscore.
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


def _find_wheel(cache_dir: Path, name: str, version: str) -> Path | None:
    prefix = _wheel_prefix(name, version)
    found = sorted(p for p in cache_dir.glob("*.whl") if p.name.lower().startswith(prefix))
    return found[0] if found else None


def download_wheels(
    pins: dict[str, str], cache_dir: Path | None = None, *, log: Log | None = _stderr
) -> list[Path]:
    """The wheels for ``pins``, for the image's python, from the cache or PyPI.

    The cache is keyed by python and platform, so a wheel found there fits the image;
    pip is not run at all when every pinned wheel is already cached (offline re-runs).
    """
    cache_dir = cache_dir or BUILD_DIR / "wheels" / f"{WHEEL_ABI}-{WHEEL_PLATFORMS[0]}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    missing = [f"{n}=={v}" for n, v in pins.items() if _find_wheel(cache_dir, n, v) is None]
    if missing:
        if log:
            log(f"downloading wheels: {' '.join(missing)}")
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--python-version", WHEEL_PYTHON, "--implementation", "cp",
               "--abi", WHEEL_ABI, "--no-deps", "--dest", str(cache_dir)]
        for plat in WHEEL_PLATFORMS:
            cmd += ["--platform", plat]
        proc = subprocess.run(cmd + missing, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxUnavailable(
                f"cannot download the image's wheels ({' '.join(missing)}): {proc.stderr.strip()[-2000:]}"
            )
    wheels = []
    for name, version in pins.items():
        whl = _find_wheel(cache_dir, name, version)
        if whl is None:
            raise SandboxUnavailable(f"pip download gave no wheel for {name}=={version} in {cache_dir}")
        wheels.append(whl)
    return wheels


def _skipped(path: Path) -> bool:
    return path.name in SKIP_NAMES or path.name.endswith(SKIP_SUFFIXES)


def _copy_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    if not src.is_dir():
        return  # grader/harness may not exist yet: an empty dir keeps COPY working
    for entry in sorted(src.iterdir()):
        if _skipped(entry):
            continue
        if entry.is_symlink():
            continue  # never follow a link out of the tree into the image
        if entry.is_dir():
            _copy_tree(entry, dst / entry.name)
        elif entry.is_file():
            shutil.copy2(entry, dst / entry.name)


def _pack_packages() -> dict[str, str]:
    from grader.harness.assignments import sandbox_packages

    return sandbox_packages()


def course_requirements(packages: tuple[str, ...] | list[str], already: dict[str, str]) -> dict[str, str]:
    """The configuration's ``packages`` and what they require, pinned to the versions
    installed in this (the grader's) environment, which the process backend's workers
    import: both backends then give a student the same packages. Those ``already`` pinned
    (numpy, by the Dockerfile) keep their pin."""
    from grader.harness.student_packages import normalize, pinned

    pins, missing = pinned(list(packages))
    if missing:
        raise SandboxUnavailable(f"the configuration's packages {', '.join(missing)} are not installed in the grader's "
                                 f"environment; install them there: the sandbox image takes the versions installed there")
    have = {normalize(name) for name in already}
    return {name: version for name, version in pins.items() if name not in have}


def build_context(
    context_dir: Path | None = None,
    *,
    repo_root: Path = REPO_ROOT,
    wheels: list[Path] | None = None,
    packages: tuple[str, ...] = (),
    log: Log | None = _stderr,
) -> Path:
    """(Re)create the build context from the repo; return its directory.

    ``wheels``: the wheel files to put in ``wheels/``; by default the Dockerfile's pins,
    downloaded (or taken from the cache) by :func:`download_wheels`. ``packages``: the
    configuration's (course_requirements), installed beside the packs' own.
    """
    context_dir = context_dir or BUILD_DIR / "docker-context"
    pins = pinned_requirements(repo_root / "Dockerfile")
    packs = _pack_packages()
    packs = {**packs, **course_requirements(packages, {**pins, **packs})}
    if wheels is None:
        wheels = download_wheels({**pins, **packs}, log=log)
    if context_dir.exists():
        shutil.rmtree(context_dir)
    context_dir.mkdir(parents=True)
    for rel in CONTEXT_FILES:
        (context_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo_root / rel, context_dir / rel)
    for rel in CONTEXT_DIRS:
        _copy_tree(repo_root / rel, context_dir / rel)
    (context_dir / "wheels").mkdir()
    # The assignment packs' extra distributions and the course's packages, installed by the
    # Dockerfile (empty: none).
    (context_dir / "wheels" / "packs.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(packs.items())))
    for whl in wheels:
        target = context_dir / "wheels" / whl.name
        try:
            os.link(whl, target)  # same filesystem: no copy of numpy's 17 MB
        except OSError:
            shutil.copy2(whl, target)
    return context_dir


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            yield Path(dirpath) / name


def context_hash(context_dir: Path) -> str:
    """sha256 (hex) of the context: each entry's relative path, kind, exec bit, content.

    Independent of mtimes, owners and the order the filesystem lists entries in, so it
    changes exactly when what Docker would copy into the image changes.
    """
    h = hashlib.sha256()
    for path in sorted(_walk(context_dir), key=lambda p: p.relative_to(context_dir).as_posix()):
        rel = path.relative_to(context_dir).as_posix().encode()
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            h.update(b"L\0" + rel + b"\0" + os.readlink(path).encode() + b"\0")
        elif stat.S_ISDIR(st.st_mode):
            h.update(b"D\0" + rel + b"\0")
        elif stat.S_ISREG(st.st_mode):
            filehash = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    filehash.update(chunk)
            x = b"x" if st.st_mode & 0o111 else b"-"
            h.update(b"F\0" + rel + b"\0" + x + b"\0" + filehash.digest())
    return h.hexdigest()


# ---------------------------------------------------------------- docker


def docker_client(timeout: int = 600) -> Any:
    """A docker SDK client for a reachable engine, or ``SandboxUnavailable``."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception as exc:  # DockerException, requests' ConnectionError, ImportError
        raise SandboxUnavailable(f"Docker engine not reachable: {exc}") from exc


def _image_exists(client: Any, ref: str) -> Any | None:
    import docker.errors

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def choose_base(client: Any, *, pull: bool = True, log: Log | None = _stderr) -> str:
    """python:3.11-slim if present or pullable, else the local Debian base (built if needed)."""
    import docker.errors
    import requests.exceptions

    if _image_exists(client, DEFAULT_BASE) is not None:
        return DEFAULT_BASE
    if pull:
        try:
            repo, tag = DEFAULT_BASE.split(":")
            client.images.pull(repo, tag=tag)
            return DEFAULT_BASE
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            if log:
                log(f"{DEFAULT_BASE} cannot be pulled ({str(exc).strip()[:200]}); using {LOCAL_BASE}")
    if _image_exists(client, LOCAL_BASE) is None:
        if log:
            log(f"building {LOCAL_BASE} with {BUILD_BASE_SCRIPT.relative_to(REPO_ROOT)}")
        proc = subprocess.run(["bash", str(BUILD_BASE_SCRIPT)], stdout=sys.stderr if log else subprocess.DEVNULL,
                              stderr=None if log else subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SandboxUnavailable(
                f"no base image: {DEFAULT_BASE} is not available and {BUILD_BASE_SCRIPT.name} failed"
                + (f": {proc.stderr.strip()[-1000:]}" if proc.stderr else "")
            )
    return LOCAL_BASE


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One image build at a time (the context dir is shared), across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(client: Any, context_dir: Path, tag: str, base: str, full_hash: str, log: Log | None) -> None:
    """Build from ``context_dir`` with no network (the wheels are in the context)."""
    stream = client.api.build(
        path=str(context_dir), tag=tag, buildargs={"BASE_IMAGE": base}, pull=False, rm=True,
        forcerm=True, network_mode="none", decode=True,
        labels={HASH_LABEL: full_hash, BASE_LABEL: base},
    )
    tail: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            raise SandboxUnavailable(f"docker build of {tag} failed: {detail}\n" + "".join(tail[-20:]))
        text = chunk.get("stream", "").strip("\n")
        if text.strip():
            tail.append(text + "\n")
            if log:
                log(text)


def ensure_image(
    *,
    client: Any | None = None,
    repo_root: Path = REPO_ROOT,
    context_dir: Path | None = None,
    base: str | None = None,
    pull: bool = True,
    packages: tuple[str, ...] = (),
    log: Log | None = _stderr,
) -> str:
    """Make sure ``convgrade:<hash12>`` exists for the current sources and the course's
    ``packages``; return that tag.

    Builds only when the tag is missing; also points ``convgrade:latest`` at it (at the
    image without course packages only). Raises ``SandboxUnavailable`` when the engine,
    the wheels or the base cannot be had, or a package is not installed here.
    """
    context_dir = context_dir or BUILD_DIR / "docker-context"
    client = client or docker_client()
    with _lock(context_dir.parent / ".docker-context.lock"):
        ctx = build_context(context_dir, repo_root=repo_root, packages=packages, log=log)
        full_hash = context_hash(ctx)
        tag = f"{IMAGE_NAME}:{full_hash[:12]}"
        image = _image_exists(client, tag)
        if image is not None and image.labels.get(HASH_LABEL) == full_hash:
            if not packages and f"{IMAGE_NAME}:latest" not in image.tags:
                image.tag(IMAGE_NAME, "latest")
            if log:
                log(f"image {tag} is up to date")
            return tag
        base = base or choose_base(client, pull=pull, log=log)
        if log:
            log(f"building {tag} on {base}")
        _build(client, ctx, tag, base, full_hash, log)
        if not packages:
            client.images.get(tag).tag(IMAGE_NAME, "latest")
        if log:
            log(f"built {tag}" + (f" (also {IMAGE_NAME}:latest)" if not packages else f" with {', '.join(packages)}"))
        return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.image", description=__doc__.split("\n")[0])
    parser.add_argument("--base", help=f"base image (default: {DEFAULT_BASE} if present or pullable, else {LOCAL_BASE})")
    parser.add_argument("--no-pull", action="store_true", help=f"do not try to pull {DEFAULT_BASE}")
    parser.add_argument("--hash-only", action="store_true", help="assemble the context, print its hash, no Docker")
    args = parser.parse_args(argv)
    try:
        if args.hash_only:
            print(context_hash(build_context()))
            return 0
        print(ensure_image(base=args.base, pull=not args.no_pull))
        return 0
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
