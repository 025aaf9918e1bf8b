"""The workers' system-call filter (grader.harness.seccomp): each filter rule is tried in a
forked child (the cleaning of student text: tests/unit/harness/test_seccomp_and_text.py)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import sys

import pytest

from grader.harness import seccomp


needs_filter = pytest.mark.skipif(not sys.platform.startswith("linux") or not seccomp.supported(),
                                  reason="seccomp filters need Linux on x86-64 or aarch64")


_libc = ctypes.CDLL(None, use_errno=True)


def _under_filter(probe) -> dict:
    """Run ``probe()`` (returning a JSON-able dict) in a child under no_new_privs and the filter."""
    syscall_filter = seccomp.Filter()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            _libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
            syscall_filter.install()
            os.write(write_end, json.dumps(probe()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(text)


def _errno_of(result: int) -> int:
    return 0 if result >= 0 else ctypes.get_errno()


@needs_filter
def test_the_filter_refuses_each_denied_call_with_eperm():
    numbers = seccomp.SYSCALLS[seccomp.machine()]

    def probe():
        return {
            "ptrace": _errno_of(_libc.ptrace(0, 0, None, None)),
            "process_vm_readv": _errno_of(_libc.syscall(numbers["process_vm_readv"], os.getppid(), 0, 0, 0, 0, 0)),
            "keyctl": _errno_of(_libc.syscall(numbers["keyctl"], 0, -3, 0)),
            "add_key": _errno_of(_libc.syscall(numbers["add_key"], b"user", b"k", b"v", 1, -3)),
            "shmget": _errno_of(_libc.shmget(0, 4096, 0o1000 | 0o600)),
            "msgget": _errno_of(_libc.msgget(0, 0o1000 | 0o600)),
            "unshare": _errno_of(_libc.unshare(0x10000000)),
            "io_uring_setup": _errno_of(_libc.syscall(numbers["io_uring_setup"], 1, ctypes.create_string_buffer(120))),
            "pdeathsig": _errno_of(_libc.prctl(1, 0, 0, 0, 0)),
            "dumpable_on": _errno_of(_libc.prctl(4, 1, 0, 0, 0)),
        }

    refused = _under_filter(probe)
    assert refused == {name: errno.EPERM for name in refused}, refused


@needs_filter
def test_the_filter_refuses_moving_cores_and_network_sockets_but_keeps_what_numpy_needs():
    def probe():
        out = {}
        try:
            os.sched_setaffinity(0, os.sched_getaffinity(0))
            out["setaffinity"] = 0
        except OSError as exc:
            out["setaffinity"] = exc.errno
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            out["inet"] = 0
        except OSError as exc:
            out["inet"] = exc.errno
        left, right = socket.socketpair()  # AF_UNIX stays allowed
        left.close(), right.close()
        out["dumpable_off"] = _errno_of(_libc.prctl(4, 0, 0, 0, 0))  # the worker does this itself
        child = os.fork()  # plain fork (clone without namespace flags) stays allowed
        if child == 0:
            os._exit(7)
        out["fork"] = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
        import numpy as np

        out["numpy"] = float(np.ones((64, 64)) @ np.ones(64) @ np.ones(64))
        return out

    assert _under_filter(probe) == {"setaffinity": errno.EPERM, "inet": errno.EPERM, "dumpable_off": 0, "fork": 7,
                                    "numpy": 4096.0}
