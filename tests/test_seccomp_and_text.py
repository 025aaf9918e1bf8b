"""The workers' system-call filter (grader.harness.seccomp) and the cleaning of student
text (grader.harness.text), as units: each filter rule is tried in a forked child."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import sys

import pytest

from grader.harness import seccomp
from grader.harness.text import ReportBudget, clean, clean_tree, clip, json_size

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


def test_the_filter_is_well_formed_for_each_architecture():
    for arch in seccomp.SYSCALLS:
        program = seccomp.build_filter(arch)
        assert len(program) < 4096
        for index, (code, jt, jf, _) in enumerate(program):
            if code in (0x15, 0x45, 0x35):  # jumps land inside the program
                assert index + 1 + max(jt, jf) < len(program)
        assert program[-1] == (0x06, 0, 0, seccomp.SECCOMP_RET_ALLOW)
        assert set(seccomp.DENIED) <= set(seccomp.SYSCALLS[arch])


def test_clean_replaces_lone_surrogates_and_shows_control_characters():
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("\x1b[2J\rfake 100/100\x07") == "\\x1b[2J\\x0dfake 100/100\\x07"
    assert clean("right-to-left \u202e override") == "right-to-left \\u202e override"
    assert clean("lines\n\tstay") == "lines\n\tstay"
    assert clean(clean("\x1b")) == clean("\x1b")  # cleaning twice changes nothing
    clean("a\ud800").encode("utf-8")  # always encodable


def test_clip_counts_bytes_of_the_report_not_characters():
    emoji = "\U0001F600" * 1000
    clipped = clip(emoji, 1200)
    assert json_size(clipped) < 1200 + 40  # the marker may go a little past
    assert clipped.endswith("more bytes not shown]")
    assert clip("short", 100) == "short"


def test_one_budget_for_everything_a_student_writes():
    budget = ReportBudget(1000)
    texts = [budget.take("\U0001F600" * 500, 800) for _ in range(10)]
    assert sum(json_size(t) for t in texts) < 1000 + 10 * (ReportBudget.FLOOR_BYTES + 40)
    assert all(t.startswith("\U0001F600") for t in texts)  # every string keeps its head


def test_clean_tree_cleans_keys_and_values_and_leaves_numbers():
    assert clean_tree({"a\x1b": ["x\ud800", 1.5, None, {"k": "\r"}]}) == {"a\\x1b": ["x\ufffd", 1.5, None, {"k": "\\x0d"}]}
