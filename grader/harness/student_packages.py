"""Which installed packages a worker may import: the course's, never the grader's.

One job: turn a list of distribution names into the files that make them up, and lay
those out as a *package view*, a folder holding one symbolic link per top-level entry
(``numpy``, ``numpy.libs``, ``numpy-2.4.6.dist-info``, ...). A worker runs Python
without its site-packages (``-S``) and with the view as the only folder of packages on
its path (``worker_paths``), so what it can import is the same on every backend and
rung: numpy and the standard library by default, plus what the configuration's
``packages`` adds (and what those require), never what else the grader's environment
holds (scipy from a test extra, pydantic, dask, the grader itself).

The files themselves are opened through the links; each rung makes their real paths,
and only those, reachable: the chroot binds them into an otherwise empty copy of each
site-packages folder (``lockdown.build_worker_root``), Landlock allows them one by one,
a private runtime copy holds them (``runtime_copy``), and a plain user reads them as
any file. A package a student was not given is then "No module named ..." everywhere,
which the host turns into the usual "not installed in the grading environment" hint.

The lists come from each distribution's RECORD (the files pip installed), so bundled
libraries (``numpy.libs``, ``scipy.libs``) come along; a requirement of an allowed
distribution comes along too when it is installed (extras are not followed).
Standard library only: this runs in the harness, in the sandbox.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import metadata

# numpy is every assignment's language: always importable (and the harness's own workers need it).
ALWAYS = ("numpy",)
# What the worker itself imports before the student's code, never offered to the student:
# threadpoolctl caps BLAS threads, line_profiler (with typing_extensions) gives the
# per-line feedback (harness/line_feedback.py).
WORKER_ONLY = ("threadpoolctl", "line_profiler", "typing_extensions")

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"\bextra\s*==")


def normalize(name: str) -> str:
    """PEP 503's form of a distribution name: scikit_image, Scikit.Image -> scikit-image."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Entry:
    """One top-level file or folder of an installed distribution, in its site folder."""

    site: str  # the folder it is installed in (a site-packages)
    name: str  # numpy, numpy.libs, numpy-2.4.6.dist-info, six.py, ...

    @property
    def path(self) -> str:
        return os.path.join(self.site, self.name)


@dataclass(frozen=True)
class Resolved:
    entries: tuple[Entry, ...]
    missing: tuple[str, ...]  # requested distributions that are not installed here


def _top_level(distribution: metadata.Distribution) -> list[Entry] | None:
    # RECORD read as text, first path component only: parsing every path (scipy lists
    # thousands) as a PackagePath would cost a tenth of a second per grading.
    record = distribution.read_text("RECORD")
    if record is None:  # no RECORD (an unusual installer): nothing to say which files are its own
        return None
    names = dict.fromkeys(line.split(",", 1)[0].split("/", 1)[0] for line in record.splitlines())
    entries = []
    for name in names:
        if not name or name in ("..", "__pycache__") or name.startswith("/"):
            continue  # scripts in ../../bin and the like: not importable
        site = os.path.realpath(os.path.dirname(os.path.normpath(str(distribution.locate_file(name)))))
        entry = Entry(site, name)
        if os.path.lexists(entry.path):
            entries.append(entry)
    return entries


def _requirements(distribution: metadata.Distribution) -> list[str]:
    """The distributions it requires (not those of its extras)."""
    names = []
    for requirement in distribution.requires or []:
        marker = requirement.partition(";")[2]
        match = _NAME.match(requirement)
        if match and not _EXTRA.search(marker):
            names.append(match.group(1))
    return names


def _walk(names: list[str] | tuple[str, ...]):
    """(name, its installed distribution or None, whether it was asked for) for ``names``
    and, transitively, the installed distributions they require; each once."""
    seen: set[str] = set()
    todo = [(name, True) for name in names]
    while todo:
        name, requested = todo.pop(0)
        key = normalize(name)
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            distribution = None
        yield name, distribution, requested
        if distribution is not None:
            todo += [(requirement, False) for requirement in _requirements(distribution)]


def resolve(names: list[str] | tuple[str, ...]) -> Resolved:
    """The top-level entries of ``names`` and of what they require, installed or not.

    A requested name that is not installed is ``missing``; a requirement that is not
    installed is left out (pip installed what the platform needed)."""
    entries: dict[str, Entry] = {}
    missing: list[str] = []
    for name, distribution, requested in _walk(names):
        found = _top_level(distribution) if distribution is not None else None
        if found is None:
            if requested:
                missing.append(name)
            continue
        for entry in found:
            entries.setdefault(entry.path, entry)
    return Resolved(tuple(entries.values()), tuple(missing))


def pinned(names: list[str] | tuple[str, ...]) -> tuple[dict[str, str], tuple[str, ...]]:
    """({distribution: installed version} for ``names`` and what they require, the names
    not installed here): what an image must install to give the same packages."""
    pins: dict[str, str] = {}
    missing: list[str] = []
    for name, distribution, requested in _walk(names):
        if distribution is not None:
            pins[normalize(distribution.metadata["Name"] or name)] = distribution.version
        elif requested:
            missing.append(name)
    return pins, tuple(missing)


def for_student(packages: list[str] | tuple[str, ...]) -> Resolved:
    """What a worker may import: numpy and ``packages`` (with what they require)."""
    return resolve([*ALWAYS, *packages])


def build_view(folder: str, entries: tuple[Entry, ...], relocate: dict[str, str] | None = None) -> str:
    """Make ``folder`` a package view: one link per entry, to its file or folder
    (``relocate`` maps a site folder to where a runtime copy holds its entries)."""
    os.mkdir(folder)
    os.chmod(folder, 0o755)  # whatever the umask: the workers' private uids list it
    for entry in entries:
        site = (relocate or {}).get(entry.site, entry.site)
        link = os.path.join(folder, entry.name)
        if not os.path.lexists(link):  # two site folders with the same entry: the first wins, as on sys.path
            os.symlink(os.path.join(site, entry.name), link)
    return folder


def site_folders(entries: tuple[Entry, ...] = ()) -> list[str]:
    """Every folder of installed packages this interpreter knows of (its own, its base
    interpreter's, the user's, and those holding ``entries``): what a worker's root must
    show only the given entries of."""
    import site
    import sys

    folders = [*site.getsitepackages(), *site.getsitepackages([sys.base_prefix]), site.getusersitepackages()]
    folders += [entry.site for entry in entries]
    return list(dict.fromkeys(os.path.realpath(f) for f in folders if os.path.isdir(f)))
