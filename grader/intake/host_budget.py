"""A time, memory and output budget for host-side work on a student's text.

The sandbox bounds the student's code; the analyses the host runs on the student's
bytes (hints, the Python 2 division analysis, the first mechanical error) run outside
it, in the grader's own process, where a file built to make them slow or hungry would
hold a grade-all slot, a service slot or a Dask worker for as long as it liked. Here such
a phase runs in a fresh child process (``python -m grader.intake.host_budget``: never a fork of a
process that has threads, as the service and Dask workers do) that limits itself before
it reads anything: address space (RLIMIT_AS), CPU time (RLIMIT_CPU), no core files. The
parent adds a wall deadline and reads at most ``output_bytes`` of the answer, which is
plain JSON; the answer is data to check, never trusted.

    run_bounded("grader.module:function", request, budget) -> the function's JSON answer
        raises BudgetExceeded (.what: "time", "cpu", "memory", "output", "depth" or "crash")

The child's own cost is one Python start and the imports of the phase's module: about
0.1 s (measured in the commit that introduced it).
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GiB = 1 << 30
MiB = 1 << 20
_PROJECT = Path(__file__).resolve().parents[2]  # the folder holding the grader package


@dataclass(frozen=True)
class Budget:
    wall_s: float = 20.0
    cpu_s: int = 15
    memory_bytes: int = 2 * GiB
    output_bytes: int = 16 * MiB


class BudgetExceeded(Exception):
    """The phase did not finish within its budget; ``describe()`` says so to a student."""

    def __init__(self, what: str, budget: Budget, detail: str = ""):
        super().__init__(f"{what}: {detail}" if detail else what)
        self.what, self.budget, self.detail = what, budget, detail

    def describe(self) -> str:
        """'stopped after 20 s (its time limit)' and the like."""
        budget = self.budget
        if self.what == "time":
            return f"stopped after {budget.wall_s:g} s (its time limit)"
        if self.what == "cpu":
            return f"stopped after {budget.cpu_s:g} s of computing (its time limit)"
        if self.what == "memory":
            return f"stopped at its memory limit ({budget.memory_bytes / GiB:g} GiB)"
        if self.what == "output":
            return f"stopped: its answer was over {budget.output_bytes // MiB} MiB"
        if self.what == "depth":
            return "stopped: the file is nested too deeply to analyse"
        return f"failed ({self.detail})" if self.detail else "failed"


def run_bounded(function: str, request: dict, budget: Budget = Budget()) -> object:
    """Run ``function`` (``"module:name"``, taking the request and returning JSON-able data)
    in a child under ``budget``; its answer, or BudgetExceeded."""
    with tempfile.TemporaryFile() as given:
        given.write(json.dumps({"function": function, "request": request}).encode())
        given.seek(0)
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        limits = [str(int(budget.memory_bytes)), str(max(1, int(budget.cpu_s)))]
        child = subprocess.Popen([sys.executable, "-m", "grader.intake.host_budget", *limits], stdin=given,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=_PROJECT, env=environment,
                                 start_new_session=True, close_fds=True)
        try:
            answer = _read_capped(child, budget)
        finally:
            _stop(child)
    return _decode(answer, child.returncode, budget)


def _read_capped(child: subprocess.Popen, budget: Budget) -> bytes:
    """The child's standard output, read until it closes, the deadline passes (time) or
    the cap is passed (output); at most output_bytes + 64 KiB are ever held."""
    ends_at = time.monotonic() + budget.wall_s
    chunks, size = [], 0
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        while True:
            left = ends_at - time.monotonic()
            if left <= 0:
                raise BudgetExceeded("time", budget)
            if not selector.select(timeout=left):
                continue
            chunk = os.read(child.stdout.fileno(), 64 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > budget.output_bytes:
                raise BudgetExceeded("output", budget)
    try:
        child.wait(timeout=max(0.1, ends_at - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise BudgetExceeded("time", budget) from None
    return b"".join(chunks)


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # its own session: nothing else is in the group
        except ProcessLookupError:
            pass
        child.wait()
    child.stdout.close()


def _decode(answer: bytes, returncode: int | None, budget: Budget) -> object:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU: soft limit, then hard
        raise BudgetExceeded("cpu", budget)
    try:
        message = json.loads(answer)
    except (ValueError, RecursionError):
        raise BudgetExceeded("crash", budget, f"no answer, exit status {returncode}") from None
    if not isinstance(message, dict) or message.get("ok") not in (True, False):
        raise BudgetExceeded("crash", budget, "a malformed answer")
    if not message["ok"]:
        what = message.get("what")
        detail = message.get("detail")
        raise BudgetExceeded(what if what in ("memory", "depth") else "crash", budget,
                             str(detail)[:300] if detail else "")
    return message.get("value")


# -- the child ----------------------------------------------------------------------


def _limit_self(memory: int, cpu: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _child(memory: int, cpu: int) -> None:
    _limit_self(memory, cpu)  # before anything of the student's is read
    out = sys.stdout
    try:
        given = json.loads(sys.stdin.buffer.read())
        module, name = given["function"].split(":")
        value = getattr(importlib.import_module(module), name)(given["request"])
        text = json.dumps({"ok": True, "value": value})
    except MemoryError:
        text = json.dumps({"ok": False, "what": "memory"})
    except RecursionError:
        text = json.dumps({"ok": False, "what": "depth"})
    except Exception as exc:  # reported to the parent, which decides what the student sees
        text = json.dumps({"ok": False, "what": "crash", "detail": f"{type(exc).__name__}: {exc}"[:300]})
    try:
        answer = text.encode()
    except MemoryError:  # a large answer near the limit: still the phase's memory, not a crash
        answer = b'{"ok": false, "what": "memory"}'
    del text
    out.buffer.write(answer)
    out.flush()


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
