"""A seccomp filter for the processes that run untrusted code (Linux, numpy + stdlib only).

One job: build, as classic BPF, a deny list of system calls that a numpy function has no
use for and that an attacker does (tracing, reading another process's memory, kernel
keyrings, System V IPC, moving to another core, io_uring, namespaces, mounts, network
sockets), and install it in the calling process. Every denied call fails with EPERM
(``clone3`` with ENOSYS, so that the C library falls back to ``clone``, which is checked
by its flags); everything else is allowed. The filter is inherited across fork and
execve and cannot be removed, so it is installed between fork and exec of a worker
(after the uid change and ``no_new_privs``), before any student code exists.

Filters stack: under Docker the engine's default profile stays in force and ours adds
to it. Architectures other than x86-64 and aarch64 get no filter (``supported()``), and
the report says so; a foreign system-call ABI on a supported machine (x32, i386 via
int 0x80) is refused outright, since the numbers below would not mean the same calls.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24

# BPF opcodes (linux/filter.h)
_LD_W_ABS = 0x20
_JEQ_K, _JSET_K, _JGE_K = 0x15, 0x45, 0x35
_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000

AF_UNIX = 1
# clone flags that make a new namespace (CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS,
# NEWIPC, NEWUSER, NEWPID, NEWNET).
CLONE_NEW_ANY = 0x00000080 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

# What is denied, by name, and why (the report lists the names).
DENIED = {
    "ptrace": "tracing itself or another process (a ptrace stop looks like an exit)",
    "process_vm_readv": "reading another process's memory",
    "process_vm_writev": "writing another process's memory",
    "kcmp": "comparing other processes' resources",
    "add_key": "kernel keyrings outlive the run and are shared by a uid",
    "request_key": "kernel keyrings",
    "keyctl": "kernel keyrings",
    "shmget": "System V shared memory escapes the address-space limit",
    "msgget": "System V message queues",
    "semget": "System V semaphores",
    "sched_setaffinity": "leaving the core the run was given",
    "io_uring_setup": "io_uring kernel threads work outside the process's core and limits",
    "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring",
    "unshare": "new namespaces",
    "setns": "joining other namespaces",
    "mount": "mounts",
    "umount2": "mounts",
    "pivot_root": "mounts",
    "chroot": "mounts",
    "perf_event_open": "hardware counters of other processes",
    "bpf": "kernel programs",
    "userfaultfd": "stalling the kernel on page faults",
    "memfd_create": "memory files grown by write() escape the address-space limit",
    "pidfd_getfd": "taking another process's open files",
}

SYSCALLS = {
    "x86_64": {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "add_key": 248,
        "request_key": 249, "keyctl": 250, "shmget": 29, "msgget": 68, "semget": 64, "sched_setaffinity": 203,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "unshare": 272, "setns": 308,
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "perf_event_open": 298, "bpf": 321,
        "userfaultfd": 323, "memfd_create": 319, "pidfd_getfd": 438, "socket": 41, "prctl": 157, "clone": 56, "clone3": 435,
    },
    "aarch64": {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "add_key": 217,
        "request_key": 218, "keyctl": 219, "shmget": 194, "msgget": 186, "semget": 190, "sched_setaffinity": 122,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "unshare": 97, "setns": 268,
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "perf_event_open": 241, "bpf": 280,
        "userfaultfd": 282, "memfd_create": 279, "pidfd_getfd": 438, "socket": 198, "prctl": 167, "clone": 220, "clone3": 435,
    },
}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

# Also refused, by argument: sockets of any family but AF_UNIX, clone into new
# namespaces, clearing the parent-death signal (a worker must die with the harness),
# and making the process dumpable again (which would open /proc/<pid>/root and
# /proc/<pid>/mem to anyone with the same uid).
ARGUMENT_RULES = ("socket(family != AF_UNIX)", "clone(new namespaces)", "clone3",
                  "prctl(PR_SET_PDEATHSIG)", "prctl(PR_SET_DUMPABLE, != 0)")


def machine() -> str:
    name = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)


def supported() -> bool:
    return machine() in SYSCALLS


def _stmt(code: int, k: int) -> tuple[int, int, int, int]:
    return (code, 0, 0, k)


def _jump(code: int, k: int, true: int, false: int) -> tuple[int, int, int, int]:
    return (code, true, false, k)


def build_filter(arch: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter program as (code, jt, jf, k) instructions."""
    arch = arch or machine()
    numbers = SYSCALLS[arch]
    deny = _stmt(_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    allow = _stmt(_RET_K, SECCOMP_RET_ALLOW)
    program = [
        _stmt(_LD_W_ABS, _ARCH),
        _jump(_JEQ_K, AUDIT_ARCH[arch], 1, 0),
        _stmt(_RET_K, SECCOMP_RET_KILL_PROCESS),  # a foreign ABI: the numbers below mean other calls
        _stmt(_LD_W_ABS, _NR),
    ]
    if arch == "x86_64":  # the x32 ABI shares the arch value; its numbers carry this bit
        program += [_jump(_JGE_K, X32_SYSCALL_BIT, 0, 1), deny]
    for name in DENIED:
        program += [_jump(_JEQ_K, numbers[name], 0, 1), deny]
    program += [_jump(_JEQ_K, numbers["clone3"], 0, 1), _stmt(_RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)]
    # Rules on arguments. Each block starts with the syscall number in the accumulator
    # and ends in a return, or skips past itself with the number still loaded.
    program += [
        _jump(_JEQ_K, numbers["socket"], 0, 4),
        _stmt(_LD_W_ABS, _ARG0),  # family
        _jump(_JEQ_K, AF_UNIX, 0, 1),
        allow,
        deny,
        _jump(_JEQ_K, numbers["clone"], 0, 4),
        _stmt(_LD_W_ABS, _ARG0),  # flags (the low 32 bits hold every CLONE_NEW*)
        _jump(_JSET_K, CLONE_NEW_ANY, 0, 1),
        deny,
        allow,
        _jump(_JEQ_K, numbers["prctl"], 0, 7),
        _stmt(_LD_W_ABS, _ARG0),  # option
        _jump(_JEQ_K, PR_SET_PDEATHSIG, 0, 1),
        deny,
        _jump(_JEQ_K, PR_SET_DUMPABLE, 0, 3),
        _stmt(_LD_W_ABS, _ARG1),
        _jump(_JEQ_K, 0, 1, 0),
        deny,
        allow,
    ]
    return program


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class Filter:
    """The filter, built ahead (in the parent), so that installing it after fork is one
    prctl call with no allocation or import."""

    def __init__(self, arch: str | None = None):
        self.program = build_filter(arch)
        self._instructions = (_SockFilter * len(self.program))(*[_SockFilter(*i) for i in self.program])
        self._fprog = _SockFprog(len(self.program), self._instructions)
        self._libc = ctypes.CDLL(None, use_errno=True)

    def install(self) -> None:
        """Install in the calling process (needs no_new_privs or CAP_SYS_ADMIN); raises OSError."""
        if self._libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._fprog), 0, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(code, code)}")

    def packed(self) -> bytes:
        return b"".join(struct.pack("HBBI", *instruction) for instruction in self.program)


def description() -> str:
    """One line for the report's isolation notes."""
    if not supported():
        return f"no seccomp filter: unsupported architecture {machine()}"
    return "seccomp filter denies: " + ", ".join([*DENIED, *ARGUMENT_RULES])
