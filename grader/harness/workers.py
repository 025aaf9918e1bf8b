"""The harness's side of a worker process: start it locked down, call it with a
deadline on the harness's own clock, capture what it prints, kill it when needed.

A call's outcome is a value (``CallOutcome``), never an exception: a timeout, a crash,
a protocol violation or the student's exception all come back the same way, so the
checks can report each as a failed check and go on.

Between calls a worker is held stopped (SIGSTOP): it computes only while a call is in
flight, so nothing can be prepared, and no core burnt, while the other side is timed.
A call's CPU time is read from the kernel while the worker is stopped, before the
request and after the reply (``timing.worker_cpu_ns``). Outputs are then read by the
harness straight out of the worker's memory (process_vm_readv), from the address the
worker names: the worker copies nothing, so there is no copy a student could skip
(building its output inside the shared region) that the reference still pays, and no
layout trick that makes the harness's copy do work (it reads contiguous bytes only;
anything else is the worker's to make contiguous, on its own CPU clock). Where the
kernel refuses that read (no CAP_SYS_PTRACE over another uid), the worker copies its
outputs into the arena instead, and ``direct_reads`` says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import disk_cap
from .lockdown import WorkerLimits
from . import text as student_text
from .call_outcome import CallOutcome
from .protocol import HEADER, MAX_MESSAGE_BYTES, Arena, encode_message, write_all
from .worker_replies import ReplyReader, ReplyRefused, WorkerGone, can_read_memory_of
from .timing import clock_ns, worker_cpu_ns

# The files a worker runs from (copied into a folder its uid can read): untrusted_worker.py imports the rest.
WORKER_FILES = ("untrusted_worker.py", "worker_paths.py", "protocol.py", "call_watch.py", "line_feedback.py",
                "peak_gemm.py", "seccomp_listener.py", "exception_text.py")




SIGNAL_MEANINGS = {
    signal.SIGKILL: "killed (SIGKILL)",
    signal.SIGSEGV: "crashed with a segmentation fault (SIGSEGV)",
    signal.SIGBUS: "crashed with a bus error (SIGBUS)",
    signal.SIGABRT: "aborted (SIGABRT)",
    signal.SIGFPE: "crashed with a floating-point exception (SIGFPE)",
    signal.SIGXCPU: "exceeded its CPU time limit (SIGXCPU)",
    signal.SIGXFSZ: "wrote a file larger than the file size limit (SIGXFSZ)",
}


class OutputCapture:
    """Keeps the first ``limit`` bytes of a stream and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    def text(self) -> str:
        text = student_text.clean(self.kept.decode("utf-8", errors="replace"))
        return text + (f"\n[... {self.dropped} more bytes not shown]" if self.dropped else "")


def _wait_child_stopped(pid: int, limit_s: float = 2.0) -> None:
    """Until our child ``pid`` is stopped or has exited, or ``limit_s`` passed. waitid with
    WNOWAIT reaps nothing (Popen still gets the exit status); yielding, not sleeping, hands
    the shared core to the worker at once, so holding costs microseconds even under load."""
    give_up = time.monotonic() + limit_s
    while time.monotonic() < give_up:
        try:
            if os.waitid(os.P_PID, pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return
        except ChildProcessError:  # already reaped
            return
        os.sched_yield()


@dataclass(frozen=True)
class WorkerSpec:
    role: str  # "student" | "reference"
    worker_dir: str  # folder with untrusted_worker.py and protocol.py, readable by the worker's uid
    root: str  # folder holding the module
    entry: str  # module file, relative to root
    functions: tuple[str, ...]
    workdir: str  # the worker's private writable folder (cwd, HOME, TMPDIR)
    limits: WorkerLimits
    request_bytes: int
    response_bytes: int
    # The package views (student_packages): what this worker may import (numpy, the course's
    # packages), and the worker's own (threadpoolctl, line_profiler). Its Python runs with -S:
    # nothing else of the grader's environment is on its path (worker_paths).
    packages: str
    worker_packages: str
    output_limit: int = 64 * 1024
    # The interpreter workers run (a copy a private uid can read, see runtime_copy) and
    # what its environment needs to find its library; both workers share it.
    executable: str = sys.executable
    runtime_env: tuple[tuple[str, str], ...] = ()
    # Where no size-capped tmpfs holds the worker's files: what it writes is charged here
    # (disk_cap); the harness answers its stopped calls while it waits on the worker.
    disk_budget: disk_cap.Budget | None = None


@dataclass(frozen=True)
class CallRequest:
    """One call to make in a worker (``WorkerProcess.call``)."""

    function: str | None  # the worker's function; None for the ops that call none
    # {"array": input name} | {"value": plain value} | {"tuple": [...]} | {"kept": slot}
    # | {"dict": {"values": {key: plain value}, "arrays": {key: input name}}} (sent back as the call left it)
    args: list[dict]
    results: list[str]  # the labels of what it returns ("@..." ones stay in the worker)
    inputs: dict[str, np.ndarray]  # the arrays to place in the arena, by name
    keep_as: str | None = None  # keep the call's results in the worker under this slot (forget)
    # "null": the request parsed and its arguments built, but no call (the fixed cost of a
    # call, see TrialRunner.calibrate); "profile", "gemm": see untrusted_worker.
    op: str = "call"
    extra: dict | None = None  # more request keys; {"discard": True}: results stay in the worker, none sent
    may_change: tuple[str, ...] = ()  # inputs the call declares mutable (layer.Call.mutable)


# Every threading library numpy may load reads one of these: one thread each.
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                     "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}


def worker_environment(workdir: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the harness's, one BLAS thread, fixed malloc."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Glibc returns big temporaries to the kernel after every call by default, which
        # makes timings depend on history; both thresholds are needed (TIMING_FACTS).
        "MALLOC_MMAP_THRESHOLD_": "1073741824",
        "MALLOC_TRIM_THRESHOLD_": "1073741824",
        **ONE_THREAD,
    }
    return env


def _reap(process: subprocess.Popen) -> int | None:
    """Wait (at most 5 s) for the worker's exit and return its code. A stop is not an
    exit (a tracer is told of its tracee's stops): the worker is killed and waited for."""
    give_up = time.monotonic() + 5
    while process.returncode is None:
        try:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:  # reaped already
            return None
        if pid == 0:
            if time.monotonic() > give_up:
                return None
            time.sleep(0.001)
        elif os.WIFSTOPPED(status) or os.WIFCONTINUED(status):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        else:
            process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode


def _drain_output(process: subprocess.Popen, stdout: OutputCapture, stderr: OutputCapture) -> None:
    """What the worker printed and nobody read yet, into its captures."""
    for stream, capture in ((process.stdout, stdout), (process.stderr, stderr)):
        os.set_blocking(stream.fileno(), False)
        try:
            while data := os.read(stream.fileno(), 1 << 16):
                capture.feed(data)
        except (BlockingIOError, OSError):
            pass


class WorkerProcess:
    """The harness's handle on one worker process: ``start`` it (locked down by its spec's
    limits, importing its module), ``call`` it with a deadline, ``forget`` what it keeps,
    ``stop`` it. Between calls it is held stopped (see the module doc); replies are
    read by ``worker_replies.ReplyReader``."""

    def __init__(self, spec: WorkerSpec, stdout: OutputCapture | None = None, stderr: OutputCapture | None = None):
        self.spec = spec
        # A restarted worker keeps writing into its predecessor's captures: what the
        # student printed before a crash is part of the story.
        self.stdout = stdout or OutputCapture(spec.output_limit)
        self.stderr = stderr or OutputCapture(spec.output_limit)
        self.process: subprocess.Popen | None = None
        self.arena: Arena | None = None
        # (slot, end of its inputs in the request region, {name: (descriptor, original)})
        self.kept: list[tuple[str, int, dict[str, tuple[dict, np.ndarray]]]] = []
        self.direct_reads = False  # outputs read from the worker's memory (see the module doc)
        self.held = False  # stopped by us, between calls
        self._cpu_started: int | None = None
        self.listener: int | None = None  # the disk cap's seccomp listener (disk_cap)

    # -- life cycle --------------------------------------------------------------

    def start(self, timeout_s: float) -> CallOutcome:
        """Start the worker and wait for it to import its module."""
        self.arena = Arena.create(self.spec.request_bytes, self.spec.response_bytes)
        request_read, self.request_fd = os.pipe()
        self.reply_fd, reply_write = os.pipe()
        config = {
            "request_fd": request_read, "reply_fd": reply_write, "arena_fd": self.arena.fd,
            "arena_size": self.arena.size, "request_bytes": self.arena.request_bytes,
            "root": self.spec.root, "entry": self.spec.entry, "functions": list(self.spec.functions),
            "packages": self.spec.packages, "worker_packages": self.spec.worker_packages,
        }
        pass_fds = [request_read, reply_write, self.arena.fd]
        channel = worker_end = None
        if self.spec.disk_budget is not None:
            channel, worker_end = socket.socketpair()
            pass_fds.append(worker_end.fileno())
            config["disk_cap"] = disk_cap.worker_config((1, 2, reply_write), worker_end.fileno())
        try:
            self.process = subprocess.Popen(
                [self.spec.executable, "-s", "-S", "-B", os.path.join(self.spec.worker_dir, "untrusted_worker.py"),
                 json.dumps(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self.spec.workdir, env={**worker_environment(self.spec.workdir), **dict(self.spec.runtime_env)},
                pass_fds=tuple(pass_fds),
                start_new_session=True, preexec_fn=self.spec.limits.preexec,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            # E.g. setuid failing with EAGAIN: the uid's task limit is still taken by a
            # process the student left. That is this start's failure, not the grader's.
            for fd in (request_read, reply_write, self.request_fd, self.reply_fd):
                os.close(fd)
            self.arena.close()
            self.process = None
            for end in (channel, worker_end):
                if end is not None:
                    end.close()
            return CallOutcome("died", 0.0, message=f"could not be started ({str(exc)[:200]})")
        os.close(request_read)
        os.close(reply_write)
        self.selector = selectors.DefaultSelector()
        if channel is not None:
            # Sent before the student's module is imported: none means the worker broke
            # before any student code ran, which is the grader's fault, never the student's.
            worker_end.close()
            with channel:
                self.listener = disk_cap.receive_listener(channel, timeout_s)
            if self.listener is None:
                self.stop()
                raise RuntimeError("the student worker did not hand over its disk cap's seccomp listener: "
                                   + self.stderr.text()[-1500:])
            self.selector.register(self.listener, selectors.EVENT_READ, "disk")
        self.selector.register(self.reply_fd, selectors.EVENT_READ, "reply")
        self.selector.register(self.process.stdout.fileno(), selectors.EVENT_READ, self.stdout)
        self.selector.register(self.process.stderr.fileno(), selectors.EVENT_READ, self.stderr)
        started = clock_ns()
        outcome = self._await(time.monotonic() + timeout_s, started, expect_ready=True)
        if self.process is not None and self.held:
            self.direct_reads = can_read_memory_of(self.process.pid)
        return outcome

    def _hold(self) -> None:
        """Stop the worker (its whole session: helpers too, where they may exist) and wait
        until the kernel reports it stopped: from here until ``_resume`` it runs nothing,
        not even a signal handler, and its CPU clock stands still."""
        try:
            os.killpg(self.process.pid, signal.SIGSTOP)
        except (ProcessLookupError, PermissionError):
            return
        _wait_child_stopped(self.process.pid)
        self.held = True

    def _resume(self) -> None:
        self.held = False
        try:
            os.killpg(self.process.pid, signal.SIGCONT)
        except (ProcessLookupError, PermissionError):
            pass

    def _cpu_now(self) -> int | None:
        process = self.process  # None once the worker was stopped (killed on a hang, or it died)
        if process is None:
            return None
        try:
            return worker_cpu_ns(process.pid)
        except OSError:
            return None

    @property
    def alive(self) -> bool:
        """Running (not exited, not stopped by a tracer). A worker found in a ptrace stop
        is hung, not finished: it is killed and reaped here (Popen.poll would take the
        stop for an exit and leave a zombie holding the uid's only task)."""
        if self.process is None or self.process.returncode is not None:
            return False
        try:
            pid, status = os.waitpid(self.process.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        if os.WIFSTOPPED(status) or os.WIFCONTINUED(status):
            self.stop()
            return False
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return False

    def stop(self) -> None:
        """Kill the worker's whole session and release everything; safe to call twice."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _reap(self.process)
        _drain_output(self.process, self.stdout, self.stderr)
        for fd in (self.request_fd, self.reply_fd, self.listener):
            try:
                if fd is not None:
                    os.close(fd)
            except OSError:
                pass
        self.listener = None
        self.selector.close()
        self.process.stdout.close()
        self.process.stderr.close()
        self.arena.close()
        self.process = None
        self.kept = []

    # -- calls ---------------------------------------------------------------------

    def call(self, request: CallRequest, timeout_s: float) -> CallOutcome:
        """Call ``request.function`` in the worker; the clock runs from before the inputs are
        written until every output has been copied out of the arena.

        ``outcome.inputs_changed`` names every input array the call left different, its
        own and those kept for earlier calls, except the ones in ``may_change`` (the
        call's declared mutable arguments, layer.Call.mutable).

        The request region is a stack: the inputs of a call whose result is kept (a
        forward's cache may hold views of x) stay in place until ``forget``, and later
        requests go above them."""
        if self.process is None:  # stopped since, e.g. it did not acknowledge a ``forget`` in time
            return CallOutcome("died", 0.0, message="had been stopped after its previous call (it died, or did "
                                                    "not answer the harness in time)")
        function, args, results, inputs = request.function, request.args, request.results, request.inputs
        keep_as, extra, may_change = request.keep_as, request.extra, request.may_change
        base = self.kept[-1][1] if self.kept else 0
        descriptors = self.arena.put(inputs, start=base, end=self.arena.request_bytes)  # before any clock
        sent_request = {"op": request.op, "function": function, "args": [self._resolve(a, descriptors) for a in args],
                        "results": results, "keep_as": keep_as, "direct": self.direct_reads, **(extra or {})}
        message = encode_message(sent_request)
        started = clock_ns()
        self._cpu_started = self._cpu_now()  # the worker is stopped: its clock stands still
        self._resume()
        try:
            write_all(self.request_fd, message)
        except BrokenPipeError:
            return self._died(started)
        sent = [] if (extra or {}).get("discard") else [r for r in results if not r.startswith("@")]
        outcome = self._await(time.monotonic() + timeout_s, started, sent)
        placed = {name: (descriptors[name], array) for name, array in inputs.items()}
        outcome.inputs_changed = [name for name in self._changed(placed) if name not in may_change] + [
            f"{name} (kept in its cache)" for _, _, kept in self.kept for name in self._changed(kept)
            if name not in may_change]
        if keep_as is not None and outcome.ok:
            top = max((d["offset"] + a.nbytes for d, a in placed.values()), default=base)
            # Later calls are checked against the inputs as this call left them: a change
            # made here is this call's, reported once above, not again under the next call.
            self.kept.append((keep_as, top, {name: (d, self.arena.view(d).copy()) for name, (d, _) in placed.items()}))
        return outcome

    def _changed(self, placed: dict[str, tuple[dict, np.ndarray]]) -> list[str]:
        if not self.alive:
            return []  # the arena is closed with a dead worker; nothing to compare against
        return [name for name, (descriptor, original) in placed.items()
                if not np.array_equal(self.arena.view(descriptor), original)]

    def forget(self, slots: list[str], timeout_s: float = 5.0) -> float:
        """Drop kept results; returns the worker's CPU time over it (seconds, 0 when it could not
        be read): the code that runs there (its objects' cleanup) is the worker's own, and the
        timing phase charges it to that side's next timed call."""
        self.kept = [entry for entry in self.kept if entry[0] not in slots]
        if not self.alive:
            return 0.0
        self._cpu_started = None
        before = self._cpu_now()
        self._resume()
        try:
            write_all(self.request_fd, encode_message({"op": "forget", "slots": slots}))
        except BrokenPipeError:  # it died after its reply; the next call reports it
            self.stop()
            return 0.0
        self._await(time.monotonic() + timeout_s, clock_ns())
        after = self._cpu_now()
        return (after - before) / 1e9 if before is not None and after is not None else 0.0

    def _resolve(self, spec: dict, descriptors: dict[str, dict]) -> dict:
        if "array" in spec:
            return {"array": descriptors[spec["array"]]}
        if "tuple" in spec:
            return {"tuple": [self._resolve(item, descriptors) for item in spec["tuple"]]}
        if "dict" in spec:  # {"values": {key: plain}, "arrays": {key: input name}}
            arrays = {key: descriptors[name] for key, name in spec["dict"]["arrays"].items()}
            return {"dict": {"values": spec["dict"]["values"], "arrays": arrays}}
        return spec

    def _await(self, deadline: float, started: int, labels: list[str] | None = None,
               expect_ready: bool = False) -> CallOutcome:
        """Wait for one reply while draining the worker's output; parse and copy it out.
        ``labels``: the results asked for; a reply naming others is a protocol violation.
        ``expect_ready``: only the start-up reply may (and must) be a "ready" message."""
        buffer = bytearray()
        while True:
            if len(buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(buffer)
                if size > MAX_MESSAGE_BYTES:
                    return self._violation(started, f"sent a {size}-byte message, over the cap")
                if len(buffer) >= HEADER.size + size:
                    # Stopped before anything is read out of it: the outputs cannot change
                    # any more, and the CPU clock covers everything the worker did.
                    self._hold()
                    cpu_s = None
                    if self._cpu_started is not None:
                        ended = self._cpu_now()
                        cpu_s = None if ended is None else (ended - self._cpu_started) / 1e9
                    self._cpu_started = None
                    outcome = self._parse_reply(bytes(buffer[HEADER.size : HEADER.size + size]), started,
                                                labels or [], expect_ready)
                    outcome.cpu_s = cpu_s if outcome.ok else None
                    return outcome
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out(started)
            for key, _ in self.selector.select(remaining):
                if key.data == "disk":  # a write the student's process is waiting to have charged
                    waiting = disk_cap.pending(key.fd)
                    if waiting:
                        self.spec.disk_budget.answer(key.fd)
                    elif waiting is None:  # no process left under its filter
                        self.selector.unregister(key.fd)
                    continue
                data = os.read(key.fd, 1 << 16)
                if key.data == "reply":
                    if not data:
                        return self._died(started)
                    buffer += data
                elif data:
                    key.data.feed(data)
                else:
                    self.selector.unregister(key.fd)

    def _parse_reply(self, body: bytes, started: int, labels: list[str], expect_ready: bool) -> CallOutcome:
        reader = ReplyReader(self.spec.functions, self.arena, self.process, self.direct_reads)
        try:
            return reader.parse(body, started, labels, expect_ready)
        except WorkerGone:  # it replied, then died before its outputs could be read
            return self._died(started)
        except ReplyRefused as refused:
            return self._violation(started, str(refused))

    @staticmethod
    def _elapsed(started: int) -> float:
        return (clock_ns() - started) / 1e9

    def _timed_out(self, started: int) -> CallOutcome:
        elapsed = self._elapsed(started)
        self.stop()
        return CallOutcome("timeout", elapsed, message=f"did not finish within {elapsed:.1f} s")

    def _violation(self, started: int, message: str) -> CallOutcome:
        elapsed = self._elapsed(started)
        self.stop()
        return CallOutcome("protocol", elapsed, message=f"the worker {message}")

    def _died(self, started: int) -> CallOutcome:
        elapsed = self._elapsed(started)
        code = _reap(self.process)
        self.stop()
        if code is not None and code < 0:
            meaning = SIGNAL_MEANINGS.get(-code, f"killed by signal {-code}")
            return CallOutcome("died", elapsed, message=meaning)
        return CallOutcome("died", elapsed, message=f"exited with code {code} (sys.exit or os._exit in student code?)")
