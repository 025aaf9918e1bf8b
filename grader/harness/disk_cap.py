"""A total disk cap for the student's worker where no size-capped tmpfs can be mounted.

One job: without CAP_SYS_ADMIN (no mounts) and without user namespaces (Docker's default
seccomp profile refuses them), bound what the student's process can add to the disk,
and make the write that would pass the bound fail inside the student's own process with
ENOSPC, as a full tmpfs does. How: a seccomp filter with a user-notification listener
(Linux 5.5+; Docker's default profile allows ``seccomp`` and ``ioctl``) stops every
system call that can allocate disk space and hands it to the harness, which charges it
against the grading's budget and answers "continue" or ENOSPC.

A budget, not a measurement: the harness cannot look into the worker (another uid, not
dumpable, no CAP_SYS_PTRACE), so each call is charged its worst case from its arguments,
and nothing is given back (a deleted or overwritten file still counts). That is what
makes the bound hard: whatever the student's process does, the blocks it can allocate
are at most the budget, wherever it writes (Landlock or not):

- a write of n bytes (write, pwrite64, sendfile, splice, copy_file_range): n, plus two
  blocks for the partial blocks at its ends and the file's own bookkeeping;
- writev and its kin, whose sizes sit in the worker's memory: the file size limit
  (RLIMIT_FSIZE), the most one call can grow a file by;
- fallocate: its whole length, whatever the mode. With FALLOC_FL_KEEP_SIZE (ZERO_RANGE
  and PUNCH_HOLE take it too) the file's size does not change, so the file size limit
  does not apply: ext4, xfs and overlayfs allocate any length (4 GiB were allocated
  against a 256 MiB budget when it was charged at most the file size limit);
- truncate, ftruncate: their length, at most the file size limit (they only set a size);
  setxattr: its size;
- every file, folder, link or name made (open with O_CREAT or O_TMPFILE, mkdir, mknod,
  symlink, link, rename): one block.

Refused outright (EPERM), as they would write without a charged call: shared writable
mappings of files (mmap MAP_SHARED without MAP_ANONYMOUS), Linux AIO (io_setup,
io_submit; io_uring is refused by ``seccomp`` already), and execve (nothing after the
worker's start runs another program; a new program would start with fresh descriptors).

Exempt, so that an honest worker never waits on the harness: writes to standard output,
standard error and the reply pipe. Those numbers stay pinned to the harness's pipes:
closing them, duplicating onto them and close_range over them are refused.

What remains outside the bound: data another process writes for the student (a logging
daemon reached over a unix socket, where the machine has one), and the harness's own
files (the worker's code, the submission's copy).

The disk itself is shared: other gradings (and anything else on the machine) write to it
too, so the budget alone does not keep room for the grader's own files (reports, results,
the next grading's copies). Two guards, both the grader's side, never the student's score:
before a grading, the scratch's file system must have the budget and a reserve free
(``check_room``), or the grading is not gradable with a message that says so; during it, a
call that fits the budget but would leave less than the reserve free is refused with ENOSPC
all the same, and counted (``Budget.short``): that grading's verdict depended on a neighbour,
so the harness reports it not gradable rather than scoring it (``DiskLow``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import socket
import struct
from collections.abc import Callable

from . import seccomp
from .seccomp_listener import hand_over

PR_SET_NO_NEW_PRIVS = 38
# <linux/seccomp.h>
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
NOTIF_SIZE, RESPONSE_SIZE = 80, 24  # struct seccomp_notif, struct seccomp_notif_resp
IOCTL_RECV = 0xC0000000 | NOTIF_SIZE << 16 | ord("!") << 8 | 0  # _IOWR('!', 0, struct seccomp_notif)
IOCTL_SEND = 0xC0000000 | RESPONSE_SIZE << 16 | ord("!") << 8 | 1  # _IOWR('!', 1, struct seccomp_notif_resp)

O_CREAT, O_TMPFILE_BIT = 0o100, 0o20000000
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20
BLOCK = 4096  # the charge per partial block and per name; the scratch file system's own if larger
MiB = 1 << 20
# Kept free for the grader's own writes on the scratch's file system (results, reports, the
# harness's copies for the next gradings: a few MiB each) whatever the students write.
RESERVE_BYTES = 64 * MiB

SYSCALLS = {
    "x86_64": {
        "write": 1, "pwrite64": 18, "writev": 20, "pwritev": 296, "pwritev2": 328, "sendfile": 40, "splice": 275,
        "copy_file_range": 326, "fallocate": 285, "ftruncate": 77, "truncate": 76, "setxattr": 188,
        "lsetxattr": 189, "fsetxattr": 190, "open": 2, "openat": 257, "openat2": 437, "creat": 85, "mkdir": 83,
        "mkdirat": 258, "mknod": 133, "mknodat": 259, "symlink": 88, "symlinkat": 266, "link": 86, "linkat": 265,
        "rename": 82, "renameat": 264, "renameat2": 316, "close": 3, "dup2": 33, "dup3": 292, "close_range": 436,
        "execve": 59, "execveat": 322, "mmap": 9, "io_setup": 206, "io_submit": 209, "seccomp": 317,
    },
    "aarch64": {  # the generic table: no open, creat, mkdir, mknod, symlink, link, rename or dup2
        "write": 64, "pwrite64": 68, "writev": 66, "pwritev": 70, "pwritev2": 287, "sendfile": 71, "splice": 76,
        "copy_file_range": 285, "fallocate": 47, "ftruncate": 46, "truncate": 45, "setxattr": 5, "lsetxattr": 6,
        "fsetxattr": 7, "openat": 56, "openat2": 437, "mkdirat": 34, "mknodat": 33, "symlinkat": 36, "linkat": 37,
        "renameat": 38, "renameat2": 276, "close": 57, "dup3": 24, "close_range": 436, "execve": 221,
        "execveat": 281, "mmap": 222, "io_setup": 0, "io_submit": 2, "seccomp": 277,
    },
}

# What each stopped call is charged (Budget.charge): the size in this argument (at most the
# file size limit) plus two blocks; writev's kin the file size limit; a name made one block.
SIZED = {"write": 2, "pwrite64": 2, "sendfile": 3, "splice": 4, "copy_file_range": 4,
         "ftruncate": 1, "truncate": 1, "setxattr": 3, "lsetxattr": 3, "fsetxattr": 3}
# Charged the size in this argument uncapped: the file size limit does not bound what
# fallocate(FALLOC_FL_KEEP_SIZE) allocates (see the module's docstring).
UNCAPPED = {"fallocate": 3}
VECTORED = ("writev", "pwritev", "pwritev2")
NAMING = ("open", "openat", "openat2", "creat", "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat",
          "link", "linkat", "rename", "renameat", "renameat2")
REFUSED = ("execve", "execveat", "io_setup", "io_submit")


def _args_offset(index: int) -> int:
    return 16 + 8 * index  # struct seccomp_data: args[] after nr, arch and the instruction pointer


def build_filter(exempt_fds: tuple[int, ...], arch: str | None = None) -> list[tuple[int, int, int, int]]:
    """The listener's filter, as (code, jt, jf, k). ``exempt_fds``: the pipes to the harness."""
    arch = arch or seccomp.machine()
    numbers = SYSCALLS[arch]
    stmt, jump = seccomp._stmt, seccomp._jump
    ld, jeq, jset, jgt = seccomp._LD_W_ABS, seccomp._JEQ_K, seccomp._JSET_K, 0x25
    ret = seccomp._RET_K
    allow, notify = stmt(ret, seccomp.SECCOMP_RET_ALLOW), stmt(ret, SECCOMP_RET_USER_NOTIF)
    deny = stmt(ret, seccomp.SECCOMP_RET_ERRNO | errno.EPERM)

    def unless_exempt(argument: int, action):
        """The fd in ``argument`` is one of the harness's pipes: allow; else ``action``."""
        tests = [jump(jeq, fd, len(exempt_fds) - i, 0) for i, fd in enumerate(exempt_fds)]
        return [stmt(ld, _args_offset(argument)), *tests, action, allow]

    def onto_exempt(argument: int):
        """Refused when the fd in ``argument`` is one of the harness's pipes."""
        tests = [jump(jeq, fd, len(exempt_fds) - i, 0) for i, fd in enumerate(exempt_fds)]
        return [stmt(ld, _args_offset(argument)), *tests, allow, deny]

    def creating(flags_argument: int):
        return [stmt(ld, _args_offset(flags_argument)), jump(jset, O_CREAT | O_TMPFILE_BIT, 0, 1), notify, allow]

    blocks: dict[str, list] = {name: unless_exempt(0, notify) for name in ("write", "pwrite64", *VECTORED)}
    blocks.update({name: [notify] for name in (*SIZED, *UNCAPPED, *NAMING) if name not in blocks})
    blocks.update(open=creating(1), openat=creating(2), close=onto_exempt(0), dup2=onto_exempt(1),
                  dup3=onto_exempt(1), close_range=[stmt(ld, _args_offset(0)), jump(jgt, max(exempt_fds), 0, 1),
                                                    allow, deny],
                  mmap=[stmt(ld, _args_offset(3)), jump(jset, MAP_SHARED, 0, 2), jump(jset, MAP_ANONYMOUS, 1, 0),
                        deny, allow])
    blocks.update({name: [deny] for name in REFUSED})
    program = [
        stmt(ld, seccomp._ARCH),
        jump(jeq, seccomp.AUDIT_ARCH[arch], 1, 0),
        stmt(ret, seccomp.SECCOMP_RET_KILL_PROCESS),
        stmt(ld, seccomp._NR),
    ]
    for name, block in blocks.items():
        if name in numbers:  # each block ends in a return; skipping it leaves the number loaded
            program += [jump(jeq, numbers[name], 0, len(block)), *block]
    return [*program, allow]


def packed_filter(exempt_fds: tuple[int, ...]) -> str:
    """The filter as hex, for the worker's configuration (it installs it; see untrusted_worker)."""
    return b"".join(struct.pack("HBBI", *instruction) for instruction in build_filter(exempt_fds)).hex()


def worker_config(exempt_fds: tuple[int, ...], socket_fd: int) -> dict:
    """What the worker needs to install the filter and hand its listener over ``socket_fd``."""
    return {"filter": packed_filter(exempt_fds), "seccomp_nr": SYSCALLS[seccomp.machine()]["seccomp"],
            "socket_fd": socket_fd}


class _Data(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int32), ("arch", ctypes.c_uint32), ("ip", ctypes.c_uint64),
                ("args", ctypes.c_uint64 * 6)]


class _Notification(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("data", _Data)]


class _Response(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)


class DiskLow(RuntimeError):
    """The scratch's file system lacks room for a grading (check_room) or ran low during one
    (Budget.short): the grader's condition, reported as not gradable, never a score."""


def free_bytes(path: str) -> int:
    """What an unprivileged writer can still allocate on ``path``'s file system."""
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def check_room(path: str, budget_bytes: int, reserve_bytes: int = RESERVE_BYTES) -> None:
    """Raise DiskLow unless ``path``'s file system has the student's budget and the reserve free."""
    free = free_bytes(path)
    if free < budget_bytes + reserve_bytes:
        raise DiskLow(f"not enough free disk for a grading: the file system of {path} has "
                      f"{free / MiB:.0f} MiB free, a grading needs {(budget_bytes + reserve_bytes) / MiB:.0f} MiB "
                      f"(the student's disk budget of {budget_bytes / MiB:g} MiB and {reserve_bytes / MiB:g} MiB kept "
                      f"for the grader's own files); free some space, or point TMPDIR at a larger disk, and regrade")


class Budget:
    """One grading's disk budget for the student: shared by every student worker of the
    run (restarts too: the files stay), answered by the harness in its wait loop.
    ``free_space``: the scratch's free bytes now, to keep ``reserve`` of them for the grader."""

    def __init__(self, cap_bytes: int, file_size_bytes: int, block: int = BLOCK,
                 free_space: Callable[[], int] | None = None, reserve: int = RESERVE_BYTES):
        self.cap = cap_bytes
        self.file_size = file_size_bytes
        self.block = max(block, BLOCK)
        self.charged = 0
        self.refused = 0
        self.free_space = free_space
        self.reserve = reserve
        self.short = 0
        """Calls refused within the budget because the disk itself was short (see DiskLow)."""
        self.lowest_free: int | None = None
        self._names = {number: name for name, number in SYSCALLS.get(seccomp.machine(), {}).items()}

    def charge(self, name: str, args) -> int:
        if name in SIZED:
            return min(int(args[SIZED[name]]), self.file_size) + 2 * self.block
        if name in UNCAPPED:
            return int(args[UNCAPPED[name]]) + 2 * self.block
        if name in VECTORED:
            return self.file_size + 2 * self.block
        return self.block  # a name made

    def answer(self, listener: int) -> bool:
        """Answer the one call the listener has waiting (``pending`` said so); False when
        there was none to answer or the answer was refused."""
        notification = _Notification()  # zeroed, as the kernel requires
        if _libc.ioctl(listener, IOCTL_RECV, ctypes.byref(notification)) != 0:
            return False  # ENOENT: the call was interrupted (a signal, the worker killed) before we took it
        cost = self.charge(self._names.get(notification.data.nr, ""), notification.data.args)
        response = _Response(id=notification.id)
        if self.charged + cost > self.cap:
            response.error = -errno.ENOSPC
            self.refused += 1
        elif (free := self._free()) is not None and free - cost < self.reserve:
            response.error = -errno.ENOSPC  # a neighbour filled the disk: this grading is not the student's
            self.short += 1
            self.lowest_free = free if self.lowest_free is None else min(self.lowest_free, free)
        else:
            self.charged += cost
            response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE
        return _libc.ioctl(listener, IOCTL_SEND, ctypes.byref(response)) == 0  # ENOENT: the worker died meanwhile

    def _free(self) -> int | None:
        if self.free_space is None:
            return None
        try:
            return self.free_space()
        except OSError:  # not known: the budget alone answers
            return None

    def shortage(self) -> DiskLow | None:
        """The not-gradable reason when the disk, not the budget, refused a student's call."""
        if not self.short:
            return None
        return DiskLow(f"the disk ran low during the grading: {self.short} of the student's writes within its "
                       f"{self.cap / MiB:g} MiB budget were refused to keep {self.reserve / MiB:g} MiB free for the "
                       f"grader (down to {(self.lowest_free or 0) / MiB:.0f} MiB free: other gradings or programs "
                       f"share this disk); regrade when there is room")


def pending(listener: int) -> bool | None:
    """True: a call waits (RECV will not block); False: nothing yet; None: the listener is
    dead (no process left under its filter)."""
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    events = poller.poll(0)
    if not events:
        return False
    revents = events[0][1]
    if revents & select.POLLIN:
        return True
    return None if revents & (select.POLLHUP | select.POLLERR | select.POLLNVAL) else False


def receive_listener(sock: socket.socket, timeout_s: float) -> int | None:
    """The listener the worker installed and sent first thing, or None if it sent none."""
    sock.settimeout(timeout_s)
    try:
        _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    except OSError:  # the timeout included
        return None
    return fds[0] if fds else None


def supported() -> bool:
    """Whether a listener works here, end to end: a child installs one on a harmless call
    (getppid with a marker argument), the harness answers "continue", the call returns."""
    names = SYSCALLS.get(seccomp.machine())
    if names is None:
        return False
    getppid, marker = {"x86_64": 110, "aarch64": 173}[seccomp.machine()], 0x5EED
    stmt, jump = seccomp._stmt, seccomp._jump
    program = [stmt(seccomp._LD_W_ABS, seccomp._NR), jump(seccomp._JEQ_K, getppid, 0, 3),
               stmt(seccomp._LD_W_ABS, _args_offset(0)), jump(seccomp._JEQ_K, marker, 0, 1),
               stmt(seccomp._RET_K, SECCOMP_RET_USER_NOTIF), stmt(seccomp._RET_K, seccomp.SECCOMP_RET_ALLOW)]
    parent_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            parent_end.close()
            _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            hand_over(b"".join(struct.pack("HBBI", *i) for i in program).hex(), names["seccomp"], child_end.detach())
            os._exit(0 if _libc.syscall(getppid, marker) == os.getppid() else 1)
        except BaseException:
            os._exit(1)
    child_end.close()
    answered = False
    try:
        listener = receive_listener(parent_end, 5.0)
        if listener is not None:
            poller = select.poll()
            poller.register(listener, select.POLLIN)
            answered = bool(poller.poll(5000)) and pending(listener) is True and Budget(1 << 20, 0).answer(listener)
            os.close(listener)
    finally:
        parent_end.close()
        if not answered:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
    return answered and os.waitstatus_to_exitcode(status) == 0
