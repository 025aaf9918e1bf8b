"""The disk cap of the lower isolation rungs (grader.harness.disk_cap): a seccomp listener
whose budget the harness answers. Each rule is tried for real, in a forked child under the
filter (no privilege needed: no_new_privs is enough), and once through a worker."""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import mmap
import os
import select
import socket
import sys
from pathlib import Path

import pytest

from grader.harness import disk_cap, isolation, seccomp
from grader.harness.seccomp_listener import hand_over
from grader.harness.workers import CallRequest, WorkerProcess
from test_worker_lifecycle import _spec

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not disk_cap.supported(),
                                reason="seccomp user notification needs Linux 5.5+ on x86-64 or aarch64")
MiB = 1 << 20
_libc = ctypes.CDLL(None, use_errno=True)


def _errno_of(action) -> int:
    try:
        action()
    except OSError as exc:
        return exc.errno
    return 0


def _under_listener(probe, budget: disk_cap.Budget) -> dict:
    """Run ``probe(report_fd)`` in a child under the listener's filter, answering its calls
    with ``budget`` until it reports (on its pipe, exempt like the worker's reply pipe)."""
    read_end, report = os.pipe()
    harness_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            harness_end.close()
            _libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
            config = disk_cap.worker_config((1, 2, report), child_end.detach())
            hand_over(config["filter"], config["seccomp_nr"], config["socket_fd"])
            os.write(report, json.dumps(probe(report)).encode())
        finally:
            os._exit(0)
    os.close(report)
    child_end.close()
    listener = disk_cap.receive_listener(harness_end, 10.0)
    harness_end.close()
    assert listener is not None
    text = b""
    try:
        while True:
            ready, _, _ = select.select([listener, read_end], [], [], 30.0)
            assert ready, "the child neither asked nor reported"
            if listener in ready and disk_cap.pending(listener):
                budget.answer(listener)
            if read_end in ready:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    break
                text += chunk
    finally:
        os.close(listener)
        os.close(read_end)
        os.waitpid(pid, 0)
    return json.loads(text)


def test_past_the_budget_writes_and_new_files_fail_with_enospc_and_the_pipes_stay_usable(tmp_path):
    budget = disk_cap.Budget(4 * MiB, 16 * MiB)

    def probe(report):
        written, error = 0, 0
        try:
            with open(tmp_path / "fill.bin", "wb", buffering=0) as out:
                while written < 64 * MiB:
                    out.write(b"\0" * MiB)
                    written += MiB
        except OSError as exc:
            error = exc.errno
        made, made_error = 0, 0
        while not made_error and made < 10_000:  # what is left of the budget, in empty files (a block each)
            made_error = _errno_of(lambda: open(tmp_path / f"empty-{made}", "wb").close())
            made += not made_error
        return {"written": written, "error": error, "made": made, "made_error": made_error,
                "stdout": _errno_of(lambda: os.write(1, b"")),
                "report_still_writable": _errno_of(lambda: os.write(report, b""))}

    seen = _under_listener(probe, budget)
    assert seen["error"] == errno.ENOSPC, seen
    assert 3 * MiB <= seen["written"] < 4 * MiB, seen
    assert (tmp_path / "fill.bin").stat().st_size == seen["written"]
    assert seen["made_error"] == errno.ENOSPC and seen["made"] <= (MiB + 2 * disk_cap.BLOCK) // disk_cap.BLOCK, seen
    assert seen["stdout"] == 0 and seen["report_still_writable"] == 0
    assert budget.charged <= budget.cap and budget.refused == 2


def test_what_would_write_past_the_budget_unseen_is_refused(tmp_path):
    """Shared file mappings, execve, AIO, and re-pointing the exempt pipes: EPERM. A writev,
    whose sizes the harness cannot read, is charged the file size limit."""
    (tmp_path / "mapped.bin").write_bytes(b"\0" * 4096)

    def probe(report):
        def shared_map():
            with open(tmp_path / "mapped.bin", "r+b") as handle:
                mmap.mmap(handle.fileno(), 4096, flags=mmap.MAP_SHARED)

        def writev():
            with open(tmp_path / "vector.bin", "wb") as out:
                os.writev(out.fileno(), [b"x"])

        private = mmap.mmap(-1, 4096)  # anonymous memory stays allowed
        private.close()
        numbers = disk_cap.SYSCALLS[seccomp.machine()]
        return {"shared_map": _errno_of(shared_map),
                "execve": _errno_of(lambda: os.execv("/bin/true", ["true"])),
                "io_setup": ctypes.get_errno() if _libc.syscall(numbers["io_setup"], 1,
                                                                ctypes.byref(ctypes.c_ulong(0))) else 0,
                "close_report": _errno_of(lambda: os.close(report)),
                "dup_onto_stdout": _errno_of(lambda: os.dup2(0, 1)),
                "close_range": ctypes.get_errno() if _libc.syscall(numbers["close_range"], 1, 2, 0) else 0,
                "writev": _errno_of(writev)}

    seen = _under_listener(probe, disk_cap.Budget(4 * MiB, 16 * MiB))
    assert {key: seen[key] for key in ("shared_map", "execve", "io_setup", "close_report", "dup_onto_stdout",
                                       "close_range")} == dict.fromkeys(
        ("shared_map", "execve", "io_setup", "close_report", "dup_onto_stdout", "close_range"), errno.EPERM)
    assert seen["writev"] == errno.ENOSPC  # 16 MiB charged against a 4 MiB budget


FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE = 0x01, 0x10


def _fallocate(fd: int, mode: int, length: int) -> int:
    """fallocate(2) with a mode (os.posix_fallocate has none): 0, or the errno."""
    function = _libc.fallocate
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    return 0 if function(fd, mode, 0, length) == 0 else ctypes.get_errno()


def test_fallocate_keep_size_is_charged_its_whole_length(tmp_path):
    """FALLOC_FL_KEEP_SIZE leaves the file's size alone, so the file size limit does not bound
    it: ext4, xfs and overlayfs allocate the whole length (4 GiB against a 256 MiB budget when
    the charge was capped at the file size limit). Each call, with ZERO_RANGE too, is charged
    its length: 8 MiB against a 4 MiB budget is refused, and nothing was allocated."""
    budget = disk_cap.Budget(4 * MiB, 1 * MiB)

    def probe(report):
        seen = {}
        for name, mode in (("keep_size", FALLOC_FL_KEEP_SIZE),
                           ("zero_range", FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)):
            with open(tmp_path / f"{name}.bin", "wb") as out:
                seen[name] = _fallocate(out.fileno(), mode, 8 * MiB)
                seen[f"{name}_allocated"] = os.fstat(out.fileno()).st_blocks * 512
        with open(tmp_path / "small.bin", "wb") as out:  # within the budget: allowed, and charged
            seen["small"] = _fallocate(out.fileno(), FALLOC_FL_KEEP_SIZE, 2 * MiB)
        return seen

    seen = _under_listener(probe, budget)
    assert seen["keep_size"] == errno.ENOSPC and seen["keep_size_allocated"] == 0, seen
    assert seen["zero_range"] in (errno.ENOSPC, errno.EOPNOTSUPP) and seen["zero_range_allocated"] == 0, seen
    assert seen["small"] in (0, errno.EOPNOTSUPP), seen
    assert budget.charged >= (2 * MiB if seen["small"] == 0 else 0) and budget.charged <= budget.cap
    assert budget.refused == 1 + (seen["zero_range"] == errno.ENOSPC), budget.refused


def test_a_write_within_the_budget_that_would_eat_the_reserve_is_refused_and_counted(tmp_path):
    """Another grading filled the shared disk: the student's writes stop where the grader's
    reserve begins, with ENOSPC, and the budget says the disk (not the student) was short."""
    budget = disk_cap.Budget(64 * MiB, 16 * MiB, free_space=lambda: 12 * MiB - budget.charged, reserve=8 * MiB)

    def probe(report):
        written, error = 0, 0
        try:
            with open(tmp_path / "fill.bin", "wb", buffering=0) as out:
                while written < 64 * MiB:
                    out.write(b"\0" * MiB)
                    written += MiB
        except OSError as exc:
            error = exc.errno
        return {"written": written, "error": error}

    seen = _under_listener(probe, budget)
    assert seen["error"] == errno.ENOSPC and 2 * MiB <= seen["written"] <= 4 * MiB, seen
    assert budget.refused == 0 and budget.short == 1, (budget.refused, budget.short)
    shortage = budget.shortage()
    assert isinstance(shortage, disk_cap.DiskLow)
    assert str(shortage).startswith("the disk ran low during the grading: 1 of the student's writes within its "
                                    "64 MiB budget were refused to keep 8 MiB free for the grader"), str(shortage)
    assert disk_cap.Budget(MiB, MiB).shortage() is None


def test_a_disk_without_room_for_the_budget_and_the_reserve_is_refused_before_grading(tmp_path):
    free = disk_cap.free_bytes(str(tmp_path))
    disk_cap.check_room(str(tmp_path), budget_bytes=MiB, reserve_bytes=MiB)  # room: nothing raised
    with pytest.raises(disk_cap.DiskLow, match=r"^not enough free disk for a grading: the file system of .* has "
                                              r"\d+ MiB free, a grading needs \d+ MiB \(the student's disk budget"):
        disk_cap.check_room(str(tmp_path), budget_bytes=free, reserve_bytes=disk_cap.RESERVE_BYTES)


def test_a_worker_past_its_budget_fails_that_call_only(tmp_path):
    """Through the harness's own wait loop: the student's write fails inside its process with
    ENOSPC, its output and replies still flow, the next call works."""
    source = '''
import itertools


def conv_forward_naive(*args):
    for index in itertools.count():
        with open(f"fill-{index}.bin", "wb") as out:
            out.write(b"\\0" * (1 << 20))


def conv_backward_naive(*args):
    print("still here")
    return None
'''
    spec = _spec(tmp_path, source)
    budget = disk_cap.Budget(8 * MiB, 1 * MiB)
    worker = WorkerProcess(dataclasses.replace(spec, functions=("conv_forward_naive", "conv_backward_naive"),
                                               disk_budget=budget))
    try:
        assert worker.start(20.0).ok
        filled = worker.call(CallRequest("conv_forward_naive", [], ["out"], {}), 20.0)
        assert filled.status == "raised" and filled.error["type"] == "OSError", filled
        assert "No space left on device" in filled.error["message"]
        after = worker.call(CallRequest("conv_backward_naive", [], ["dx"], {}), 20.0)
        assert after.ok, after
        assert "still here" in worker.stdout.text()
    finally:
        worker.stop()
    written = sum(path.stat().st_size for path in Path(tmp_path).glob("fill-*.bin"))
    assert 6 * MiB <= written <= budget.cap


def test_the_isolation_report_names_the_disk_cap_or_its_absence():
    abilities = isolation.Abilities(root=True, namespaces=False, private_uids=True, chroot=True, seccomp=True,
                                    landlock_abi=4, disk_cap=True)
    described = isolation.describe(abilities, pid_namespace=False, landlock_used=4, runtime_copied=False, exposed=[],
                                   inside_container=False, disk_cap_bytes=32 * MiB)
    assert any(item.startswith("a disk budget of 32 MiB") for item in described.has)
    missing = isolation.describe(isolation.Abilities(**{**abilities.__dict__, "disk_cap": False}), pid_namespace=False,
                                 landlock_used=4, runtime_copied=False, exposed=[], inside_container=False)
    assert any(item.startswith("a total disk cap") for item in missing.lacks)
    full = isolation.describe(isolation.Abilities(**{**abilities.__dict__, "namespaces": True}), pid_namespace=True,
                              landlock_used=0, runtime_copied=False, exposed=[], inside_container=False)
    assert not any("disk" in item for item in full.has + full.lacks)  # its tmpfs is the cap there
