"""A copy of the Python runtime that a private uid can run, when the original is out of
its reach (an interpreter under /root/.pyenv, say, with /root mode 0700).

With namespaces the worker's chroot binds the runtime in, so its folders' modes do not
matter; without them the worker opens the real paths, as its own uid. Then the
interpreter, its standard library and numpy (nothing else of the grader's environment:
not the grader, not the references) are copied once per machine into a root-owned
folder every uid can read, and both workers run from that copy: the student and the
reference still share one runtime, as timing requires.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile

import numpy as np

from .isolation import readable_by_others

CACHE_ROOT = "/var/cache/convgrade/runtime"
# Parts of the standard library no worker imports: left out of the copy (about half its size).
SKIPPED_STDLIB = ("site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
                  "lib2to3", "config-*")


# Optional packages the worker imports besides numpy: threadpoolctl caps BLAS threads,
# line_profiler (with typing_extensions, which it imports) gives the per-line feedback.
WORKER_PACKAGES = ("threadpoolctl", "line_profiler", "typing_extensions")


def _installed(name: str) -> str | None:
    """The file or package folder of ``name`` where installed (found, not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(spec.origin) if spec.submodule_search_locations else spec.origin


def runtime_paths() -> list[str]:
    """What a worker opens: the interpreter, its shared library, the standard library, numpy
    and WORKER_PACKAGES."""
    paths = [os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"], os.path.dirname(np.__file__)]
    paths += [path for path in map(_installed, WORKER_PACKAGES) if path]
    library = sysconfig.get_config_var("LDLIBRARY") or ""
    if library.endswith(".so") or ".so." in library:
        paths.append(os.path.join(sysconfig.get_config_var("LIBDIR") or "", library))
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    if os.path.isdir(libs):
        paths.append(libs)
    paths.append(sysconfig.get_config_var("DESTSHARED") or "")  # the C modules (lib-dynload)
    return [p for p in paths if os.path.exists(p)]


def reachable_by_private_uid() -> bool:
    return all(readable_by_others(path) for path in runtime_paths())


class WorkerRuntime:
    """How a worker's interpreter is started: the executable and extra environment."""

    def __init__(self, executable: str, env: dict[str, str] | None = None, copied: bool = False):
        self.executable = executable
        self.env = env or {}
        self.copied = copied


def current() -> WorkerRuntime:
    return WorkerRuntime(sys.executable)


def private_copy(cache_root: str = CACHE_ROOT) -> WorkerRuntime:
    """The cached copy (made now if missing): ``<copy>/bin/pythonX.Y``, its standard
    library under ``<copy>/lib``, numpy in its site-packages. Made in a temporary folder
    and renamed into place, so concurrent gradings never see half a copy."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = hashlib.sha256("\0".join([sys.version, np.__version__, *runtime_paths()]).encode()).hexdigest()[:16]
    target = os.path.join(cache_root, key)
    executable = os.path.join(target, "bin", f"python{version}")
    runtime = WorkerRuntime(executable, {"LD_LIBRARY_PATH": os.path.join(target, "lib")}, copied=True)
    if os.path.exists(executable):
        return runtime
    os.makedirs(cache_root, mode=0o755, exist_ok=True)
    for folder in (cache_root, os.path.dirname(cache_root)):
        os.chmod(folder, 0o755)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=cache_root)
    try:
        os.makedirs(os.path.join(staging, "bin"))
        shutil.copy2(os.path.realpath(sys.executable), os.path.join(staging, "bin", f"python{version}"))
        lib = os.path.join(staging, "lib")
        stdlib = os.path.join(lib, f"python{version}")
        shutil.copytree(sysconfig.get_paths()["stdlib"], stdlib, ignore=shutil.ignore_patterns(*SKIPPED_STDLIB))
        library = sysconfig.get_config_var("LDLIBRARY") or ""
        shared = os.path.join(sysconfig.get_config_var("LIBDIR") or "", library)
        if ".so" in library and os.path.exists(shared):
            shutil.copy2(os.path.realpath(shared), os.path.join(lib, library))
            soname = sysconfig.get_config_var("INSTSONAME") or ""
            if soname and soname != library:
                os.symlink(library, os.path.join(lib, soname))
        # lib-dynload may live outside the standard library folder (Debian): the C modules.
        dynload = sysconfig.get_config_var("DESTSHARED") or ""
        if dynload and os.path.isdir(dynload) and not os.path.isdir(os.path.join(stdlib, "lib-dynload")):
            shutil.copytree(dynload, os.path.join(stdlib, "lib-dynload"))
        site = os.path.join(stdlib, "site-packages")
        os.makedirs(site)
        numpy_dir = os.path.dirname(np.__file__)
        shutil.copytree(numpy_dir, os.path.join(site, "numpy"), ignore=shutil.ignore_patterns("tests"))
        libs = os.path.join(os.path.dirname(numpy_dir), "numpy.libs")
        if os.path.isdir(libs):
            shutil.copytree(libs, os.path.join(site, "numpy.libs"))
        for path in filter(None, map(_installed, WORKER_PACKAGES)):
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(site, os.path.basename(path)), ignore=shutil.ignore_patterns("tests"))
            else:
                shutil.copy2(path, site)
        for directory, folders, files in os.walk(staging):
            os.chmod(directory, 0o755)
            for name in files:
                path = os.path.join(directory, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)
        try:
            os.rename(staging, target)
        except OSError:  # another grading finished its copy first
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return runtime
