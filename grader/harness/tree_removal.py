"""Remove a grading's scratch folder whatever the student did to its modes, and say what stayed.

One job: delete a tree the student's process could write into. Where the student runs under
the grader's own uid (the plain-user rung), it can leave a folder of mode 000 (unreadable) or
0500 (its entries cannot be unlinked); ``shutil.rmtree(ignore_errors=True)`` skips those
silently, and up to the whole disk budget stayed in /tmp after every grading. Here each
folder gets its owner's rwx back before it is read, and whatever still cannot be removed is
returned, for the batch summary to report.

Never out of the tree:

- no symlink is followed: entries are opened relative to their folder's descriptor with
  O_NOFOLLOW, and a folder's mode is restored through an O_PATH descriptor of that folder
  (seen through /proc/self/fd, since fchmod refuses O_PATH descriptors), never through a
  name that could be a link; a link is unlinked as a link, its target untouched;
- no other file system is entered (a mount point under the tree is left, and reported);
- going back up opens ".." of the folder just emptied and checks that it is the folder we
  came from (device and inode), so a folder moved meanwhile stops the removal there.

Bounded: iterative, with two descriptors open at most and one list of names per level, so a
tree 60,000 folders deep (what a 256 MiB budget buys, a block per folder) neither recurses
nor runs out of descriptors; every entry is listed once: linear in the tree's size.
Standard library only: the harness (inside the sandbox) and the process backend (on the
host) both use it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field

MAX_NAMED = 10  # leftovers named in the report; the count covers all of them
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Leftovers:
    """What could not be removed: how many entries, the first few by path, and why."""

    count: int = 0
    named: list[str] = field(default_factory=list)

    def add(self, path: str, why: str) -> None:
        self.count += 1
        if len(self.named) < MAX_NAMED:
            self.named.append(f"{path} ({why})")

    def __bool__(self) -> bool:
        return self.count > 0


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _give_owner_rwx(parent_fd: int, name: str, mode: int) -> None:
    """chmod u+rwx on the folder ``name`` in ``parent_fd``, without following a link."""
    if mode & 0o700 == 0o700 or os.geteuid() == 0:
        return  # root passes permission checks anyway
    path_fd = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        os.chmod(f"/proc/self/fd/{path_fd}", stat.S_IMODE(mode) | 0o700)
    finally:
        os.close(path_fd)


def _open_folder(parent_fd: int, name: str) -> int:
    """The folder ``name`` (not a link to one), readable and writable by its owner now."""
    info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    _give_owner_rwx(parent_fd, name, info.st_mode)
    return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)


class _Level:
    """One folder on the way down: its name, identity, path (for reports), subfolders left."""

    def __init__(self, name: str, identity: tuple[int, int], path: str):
        self.name, self.identity, self.path = name, identity, path
        self.subfolders: list[str] = []
        self.complete = True


def remove_tree(path: str) -> Leftovers:
    """Delete ``path`` and everything under it (see the module's docstring); a missing path is
    no error. Returns what is left; never raises for what it meets in the tree."""
    left = Leftovers()
    try:
        _remove(path, left)
    except OSError as exc:  # a cleanup in a finally must not replace the grading's outcome
        left.add(path, f"removal stopped: {exc.strerror or type(exc).__name__}")
    return left


def _remove(path: str, left: Leftovers) -> None:
    parent, name = os.path.split(os.path.abspath(path))
    try:
        parent_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # ours: may be a link (/tmp)
    except FileNotFoundError:
        return
    try:
        try:
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            _unlink(parent_fd, name, path, left)
            return
        try:
            fd = _open_folder(parent_fd, name)
        except OSError as exc:
            left.add(path, f"not opened: {exc.strerror}")
            return
        top = _Level(name, _identity(fd), path)
        _remove_below(fd, top, left)
        _rmdir(parent_fd, top, left)
    finally:
        os.close(parent_fd)


def _remove_below(fd: int, top: _Level, left: Leftovers) -> None:
    """Empty the folder open as ``fd`` (``top``), descending without recursion; closes ``fd``."""
    device = top.identity[0]
    levels = [top]
    _list(fd, top, left)
    while True:
        level = levels[-1]
        if level.subfolders:  # down into the next subfolder
            name = level.subfolders.pop()
            child_path = os.path.join(level.path, name)
            try:
                child = _open_folder(fd, name)
            except OSError as exc:
                left.add(child_path, f"not opened: {exc.strerror}")
                level.complete = False
                continue
            identity = _identity(child)
            if identity[0] != device:  # a mount point: another file system is not ours to empty
                os.close(child)
                left.add(child_path, "another file system is mounted there")
                level.complete = False
                continue
            os.close(fd)
            fd = child
            levels.append(_Level(name, identity, child_path))
            _list(fd, levels[-1], left)
            continue
        if len(levels) == 1:
            os.close(fd)
            return
        # Back up: this folder is as empty as it will get.
        levels.pop()
        up = levels[-1]
        try:
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            left.add(up.path, f"could not go back up: {exc.strerror}")
            return
        finally:
            os.close(fd)
        if _identity(parent) != up.identity:  # moved while we worked: stop rather than guess
            os.close(parent)
            left.add(up.path, "moved during the removal")
            return
        fd = parent
        _rmdir(fd, level, left)
        if not level.complete:
            up.complete = False


def _list(fd: int, level: _Level, left: Leftovers) -> None:
    """Unlink the folder's non-folders; note its subfolders to visit."""
    try:
        with os.scandir(fd) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    except OSError as exc:
        left.add(level.path, f"not listed: {exc.strerror}")
        level.complete = False
        return
    for name, is_folder in names:
        if is_folder:
            level.subfolders.append(name)
        elif not _unlink(fd, name, os.path.join(level.path, name), left):
            level.complete = False


def _unlink(fd: int, name: str, path: str, left: Leftovers) -> bool:
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        left.add(path, exc.strerror or type(exc).__name__)
        return False
    return True


def _rmdir(fd: int, level: _Level, left: Leftovers) -> None:
    try:
        os.rmdir(level.name, dir_fd=fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY or level.complete:  # else what stayed inside is reported already
            left.add(level.path, exc.strerror or type(exc).__name__)
        level.complete = False
