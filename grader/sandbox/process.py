"""The process backend: the harness as a local process tree, locked down by the OS.

As root, the harness gets private mount, network, IPC and PID namespaces (it is
process 1 of the last: its workers die with it), a size-capped tmpfs for scratch, the
grader's own folders hidden, and each worker a private uid (a base claimed host-wide),
one task, one core, resource limits and the seccomp filter. Without CAP_SYS_ADMIN, or
without root, it takes the next rung of the isolation ladder (grader.harness.isolation:
private uids or the caller's, Landlock, seccomp, limits) and the result says what was
lacking. The Docker backend is the stronger boundary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.errors import GraderError, HarnessProtocolError, SandboxCancelled, SandboxTimeout
from grader.harness.tree_removal import Leftovers, remove_tree
from grader.harness.workers import ONE_THREAD
from grader.sandbox.base import SandboxJob, SandboxRun, parse_report, private_uid_pair

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Folders of a source checkout the student must not see (references, tests, examples;
# build/ holds the Docker build context, a full copy of the reference; out/ results).
PRIVATE_PROJECT_DIRS = ("grader", "reference", "tests", "submissions", "bench", "schemas", ".git", "build", "out",
                        "docker", ".ci", ".pytest_cache", ".hypothesis")


def harness_environment() -> dict[str, str]:
    # A service's run marker (grader.service.leftovers) goes along: the next start of a
    # service that died finds the harnesses it left by it. Workers get an environment of their own.
    marker = {name: os.environ[name] for name in ("CONVGRADE_SERVICE_RUN",) if name in os.environ}
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", **ONE_THREAD,
            **marker}


def _die_with_parent_hook():
    """A preexec hook: the harness gets SIGKILL when the grader's thread that started it dies
    (it waits for the harness, so: when the grader dies), instead of grading on for nobody.
    Linux only; the hook does no more than one prebuilt foreign call and two system calls,
    so it is safe in the child of a threaded process."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes, prctl.restype = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                     ctypes.c_ulong], ctypes.c_int
    parent = os.getpid()

    def hook() -> None:
        prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the grader died before the call
            os._exit(1)
    return hook


class ProcessSandbox:
    name = "process"

    def __init__(self):
        self._lock = threading.Lock()
        self._running: set[int] = set()
        """The harness sessions of the runs in progress: what ``cancel`` kills."""
        self._cancelled: set[int] = set()

    def prepare(self) -> str | None:
        return None  # nothing to build: the harness runs from this installation

    def cancel(self) -> None:
        with self._lock:
            for pid in self._running:
                self._cancelled.add(pid)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

    def close(self) -> None:
        self.cancel()

    def run(self, job: SandboxJob) -> SandboxRun:
        scratch_parent = tempfile.mkdtemp(prefix="convgrade-run-")
        left = None
        try:
            run = self._run_in(scratch_parent, job)
        except GraderError as exc:  # not gradable: what stayed is still said
            left = remove_unless_mounted(scratch_parent)
            exc.scratch_left = scratch_left(left)
            raise
        finally:  # whatever stops the run (Ctrl-C while the harness starts, too): ours, and never mounted here
            if left is None:
                left = remove_unless_mounted(scratch_parent)
        return dataclasses.replace(run, scratch_left=scratch_left(left))

    def _run_in(self, scratch_parent: str, job: SandboxJob) -> SandboxRun:
        os.chmod(scratch_parent, 0o711)
        hide = [str(PROJECT_ROOT / d) for d in PRIVATE_PROJECT_DIRS if (PROJECT_ROOT / d).is_dir()]
        config = {
            **job.harness_config,
            "submission_root": str(job.submission_root),
            "entry": job.entry,
            "cpu": job.placement.cpu,
            "uid_base": private_uid_pair(job.placement.slot),
            "isolate_namespaces": True,
            "hide_paths": hide + [str(p) for p in job.placement.hide_paths],
            "scratch_parent": scratch_parent,
            "timing_lock": str(job.placement.timing_lock) if job.placement.timing_lock else None,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-s", "-m", "grader.harness"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=scratch_parent, env=harness_environment(), start_new_session=True,
            preexec_fn=_die_with_parent_hook(),
        )
        with self._lock:
            self._running.add(process.pid)  # its session: what cancel() kills
        try:
            stdout, stderr = process.communicate(json.dumps(config).encode(), timeout=job.deadline_s)
        except subprocess.TimeoutExpired as exc:
            raise SandboxTimeout(f"process: the harness gave no report within {job.deadline_s:g} s") from exc
        finally:
            _kill_session(process)
            with self._lock:
                self._running.discard(process.pid)
                cancelled = process.pid in self._cancelled
                self._cancelled.discard(process.pid)
        if cancelled:
            raise SandboxCancelled("process: the run was cancelled")
        wall = time.monotonic() - started
        diagnostics = stderr.decode("utf-8", errors="replace")[-4000:]
        report = parse_report(stdout, backend=self.name)
        if "harness_error" in report:
            raise HarnessProtocolError(f"process: harness failed: {report['harness_error']}\n{report.get('traceback', '')}")
        if process.returncode != 0:
            raise HarnessProtocolError(f"process: harness exited with {process.returncode}: {diagnostics}")
        return SandboxRun(report=report, wall_time_s=wall, backend=self.name, diagnostics=diagnostics)


def remove_unless_mounted(path: str) -> Leftovers:
    """Delete ``path`` recursively, unless anything is mounted under it; what is left.

    The harness's mounts (among them a bind of the interpreter's folder) live in its own
    namespace, gone with it, so here there should be none. If that ever stopped being
    true, deleting would go through a bind mount into the real files, so we check. The
    student's folders are given their owner's rwx back first (a folder of mode 000 made
    under the grader's own uid stayed in /tmp), never through a link (tree_removal)."""
    prefix = os.path.join(os.path.realpath(path), "")
    with open("/proc/self/mountinfo") as mounts:
        if any((line.split()[4] + "/").startswith(prefix) for line in mounts):
            left = Leftovers()
            left.add(path, "something is mounted under it: not removed")
            return left
    return remove_tree(path)


def scratch_left(left: Leftovers) -> tuple[str, ...]:
    """The leftovers as the result records them: the count, then the first few paths."""
    if not left:
        return ()
    return (f"{left.count} entr{'y' if left.count == 1 else 'ies'} of the scratch could not be removed",
            *left.named)


def _kill_session(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
