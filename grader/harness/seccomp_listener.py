"""Worker side of the disk cap (``disk_cap``): install the harness's filter with a
seccomp user-notification listener, and hand the listener to the harness.

Runs in the worker before the student's module is imported (so still trusted), with the
standard library only: this file is copied beside untrusted_worker.py. The harness uses
``install`` too, for its probe.
"""

import ctypes
import os
import socket

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3

_libc = ctypes.CDLL(None, use_errno=True)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(program: bytes, seccomp_nr: int) -> int:
    """Install ``program`` (packed BPF) on the calling process; returns the listener's fd.
    Needs no_new_privs, which the worker has from its start."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Fprog(len(program) // 8, ctypes.addressof(buffer))
    fd = _libc.syscall(seccomp_nr, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, ctypes.byref(fprog))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp(NEW_LISTENER): {os.strerror(code)}")
    return fd


def hand_over(program_hex: str, seccomp_nr: int, socket_fd: int) -> None:
    """Install, send the listener over ``socket_fd`` and keep no copy of either: the
    student's code must not hold the fd that answers its own calls."""
    listener = install(bytes.fromhex(program_hex), seccomp_nr)
    with socket.socket(fileno=socket_fd) as channel:
        socket.send_fds(channel, [b"L"], [listener])
    os.close(listener)
