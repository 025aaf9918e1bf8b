"""Landlock (Linux 5.13+): an unprivileged filesystem allow-list for one worker.

One job: build, in the harness, a ruleset that lets a worker read and run only the
folders it needs (the system's, the Python runtime, its code) and write only its home,
then apply it in the worker between fork and exec. It needs no privilege at all, so it
confines the worker where a chroot cannot be built (no CAP_SYS_ADMIN for bind mounts,
or not root). Newer ABIs add more, each used when the kernel has it: TCP bind and
connect refused (ABI 4), and signals and abstract unix sockets scoped to the worker
itself (ABI 6: a worker running under the grader's own uid cannot signal the harness).

The ruleset is a file descriptor made in the parent: applying it after fork is two
system calls, with no allocation and no path lookup.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

# The same numbers on every architecture (allocated after the syscall tables merged).
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_ABI1 = (1 << 13) - 1  # execute .. make_sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
READ_ONLY = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a file may grant


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI (1, 2, ...), or 0 when it has none, has it disabled, or
    a seccomp profile (an older Docker's default) refuses the call."""
    version = _libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    return max(0, version)


def _fs_rights(abi: int) -> int:
    rights = FS_ABI1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def what_it_confines(abi: int) -> list[str]:
    """Words for the report: what a ruleset of this ABI covers."""
    if abi <= 0:
        return []
    covered = [f"Landlock ABI {abi}: a worker opens only the system's folders, the runtime and its own home"]
    if abi >= 4:
        covered.append("Landlock: no TCP bind or connect")
    if abi >= 6:
        covered.append("Landlock: no signals or abstract unix sockets beyond the worker itself")
    return covered


class Ruleset:
    """An allow-list ruleset, built in the parent; ``restrict`` applies it in a child."""

    def __init__(self, abi: int, read_only: list[str], writable: list[str], device_files: list[str],
                 listable: tuple[str, ...] = ()):
        """``listable``: folders whose names may be listed (a site-packages, for imports)
        while their files stay closed unless also allowed below them."""
        self.abi = abi
        fs = _fs_rights(abi)
        attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
        self.fd = _libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
        if self.fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
        try:
            for path in read_only:
                self._allow(path, READ_ONLY)
            for path in listable:
                self._allow(path, READ_DIR)
            for path in writable:
                self._allow(path, fs)
            for path in device_files:
                self._allow(path, (READ_FILE | WRITE_FILE) & fs)
        except OSError:
            os.close(self.fd)
            raise

    def _allow(self, path: str, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # /lib32 and the like: absent here, nothing to allow
        try:
            if not os.path.isdir(path):
                rights &= FILE_RIGHTS
            rule = _PathBeneathAttr(rights, fd)
            if _libc.syscall(SYS_ADD_RULE, self.fd, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                code = ctypes.get_errno()
                raise OSError(code, f"landlock_add_rule {path}: {os.strerror(code)}")
        finally:
            os.close(fd)

    def restrict(self) -> None:
        """In the child: confine the calling process (and whatever it starts) for good.

        First the child's own /proc/<pid> is allowed (read): threadpoolctl reads
        /proc/self/maps, and no other process's entry (command lines, say) becomes
        readable. The rule stays in the shared ruleset, bound to that process's /proc
        entry, which no later process gets: a reused pid has a new one."""
        self._allow("/proc/self", READ_FILE | READ_DIR)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"prctl(NO_NEW_PRIVS): {os.strerror(code)}")
        if _libc.syscall(SYS_RESTRICT_SELF, self.fd, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
