"""A copy of the Python runtime that a private uid can run, when the original is out of
its reach (an interpreter under /root/.pyenv, say, with /root mode 0700).

With namespaces the worker's chroot binds the runtime in, so its folders' modes do not
matter; without them the worker opens the real paths, as its own uid. Then the
interpreter, its standard library and the packages the workers may import (numpy, the
course's, the worker's own: ``student_packages``; nothing else of the grader's
environment: not the grader, not the references) are copied once per machine and
package set into a root-owned folder every uid can read, and both workers run from that
copy: the student and the reference still share one runtime, as timing requires.

Workers run the interpreter itself, never a virtual environment's link to it: with
``-S`` they need nothing of the environment, whose site-packages holds the grader's own
dependencies.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
import tempfile

from .isolation import readable_by_others
from .student_packages import Entry

CACHE_ROOT = "/var/cache/convgrade/runtime"
# Parts of the standard library no worker imports: left out of the copy (about half its size).
SKIPPED_STDLIB = ("site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
                  "lib2to3", "config-*")


def interpreter() -> str:
    """The interpreter's own file (a virtual environment's bin/python is a link to it)."""
    return os.path.realpath(sys.executable)


def runtime_paths(entries: tuple[Entry, ...] = ()) -> list[str]:
    """What a worker opens: the interpreter, its shared library, the standard library, and
    the packages ``entries`` (student_packages)."""
    paths = [interpreter(), sysconfig.get_paths()["stdlib"]]
    library = sysconfig.get_config_var("LDLIBRARY") or ""
    if library.endswith(".so") or ".so." in library:
        paths.append(os.path.join(sysconfig.get_config_var("LIBDIR") or "", library))
    paths.append(sysconfig.get_config_var("DESTSHARED") or "")  # the C modules (lib-dynload)
    paths += [entry.path for entry in entries]
    return [p for p in paths if os.path.exists(p)]


def reachable_by_private_uid(entries: tuple[Entry, ...] = ()) -> bool:
    return all(readable_by_others(path) for path in runtime_paths(entries))


class WorkerRuntime:
    """How a worker's interpreter is started: the executable and extra environment, and
    where the copy (if any) holds each site folder's packages."""

    def __init__(self, executable: str, env: dict[str, str] | None = None, copied: bool = False,
                 relocate: dict[str, str] | None = None):
        self.executable = executable
        self.env = env or {}
        self.copied = copied
        self.relocate = relocate or {}


def current() -> WorkerRuntime:
    return WorkerRuntime(interpreter())


def private_copy(entries: tuple[Entry, ...], cache_root: str = CACHE_ROOT) -> WorkerRuntime:
    """The cached copy (made now if missing): ``<copy>/bin/pythonX.Y``, its standard
    library under ``<copy>/lib``, the packages ``entries`` in its site-packages. Made in a
    temporary folder and renamed into place, so concurrent gradings never see half a copy."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = hashlib.sha256("\0".join([sys.version, *runtime_paths(entries)]).encode()).hexdigest()[:16]
    target = os.path.join(cache_root, key)
    executable = os.path.join(target, "bin", f"python{version}")
    site = os.path.join(target, "lib", f"python{version}", "site-packages")
    runtime = WorkerRuntime(executable, {"LD_LIBRARY_PATH": os.path.join(target, "lib")}, copied=True,
                            relocate={entry.site: site for entry in entries})
    if os.path.exists(executable):
        return runtime
    os.makedirs(cache_root, mode=0o755, exist_ok=True)
    for folder in (cache_root, os.path.dirname(cache_root)):
        os.chmod(folder, 0o755)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=cache_root)
    try:
        os.makedirs(os.path.join(staging, "bin"))
        shutil.copy2(interpreter(), os.path.join(staging, "bin", f"python{version}"))
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
        staged_site = os.path.join(stdlib, "site-packages")
        os.makedirs(staged_site)
        for entry in entries:
            destination = os.path.join(staged_site, entry.name)
            if os.path.lexists(destination):
                continue
            if os.path.isdir(entry.path):
                shutil.copytree(entry.path, destination, ignore=shutil.ignore_patterns("tests"))
            else:
                shutil.copy2(entry.path, destination)
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
