"""The loader's verdict on an upload, in a small pool of processes beside the server.

Checking an upload parses and compiles it (nothing of it runs): a couple of milliseconds
of CPU for a real file, which in the server's own process would hold its GIL and make a
burst of uploads queue behind each other. The pool's processes check in parallel, off that
GIL. But a hostile file can make the loader's analyses slow (16,000 merge-conflict blocks
took over a minute), so each check is bounded: past ``timeout_s`` its process is killed
(SIGKILL) and replaced, and the upload is refused with a message saying so. A check whose
client hung up is killed the same way (the caller cancels it), so nobody's abandoned
uploads hold the pool.

Each checking process is our own (not a ProcessPoolExecutor's, whose processes cannot be
killed one at a time): it takes one upload at a time over a pipe and answers a few bytes
(an accepted mark with the loaded submission's content hash, or the loader's message,
capped), which the server reads as text and nothing else. The content hash (the one a
grading records and derives its seed from) spares the dispatcher loading the upload again. It stages each upload in its own folder under the checker's folder
(DATA/checking: students' code stays in DATA), which the server removes when it kills it;
what a crash of the server left is removed at the next start. Each checking process limits
its own address space (RLIMIT_AS, ``memory_bytes``: 2 GiB, the bounded loader's budget)
before it reads an upload: a check that runs out of it is refused with a message saying so,
and the process, which may be left in a poor state, answers and leaves to be replaced.
A checking process dies with the server: it asks the kernel for SIGKILL when its parent
dies (Linux), and it leaves when its pipe from the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from grader.errors import SubmissionError, UsageError

DEFAULT_WORKERS = 4
DEFAULT_MEMORY_BYTES = 2 << 30
"""The bounded loader's memory budget (grader.intake.bounded_load): a real upload's check needs a few MiB."""
REPLY_MAX = 3800
"""A reply fits one atomic pipe write (PIPE_BUF is 4096): readable means wholly readable."""
ACCEPTED = b"\0"
"""Followed by the loaded submission's content sha256 (64 hex digits), or nothing (the warm-up)."""
SPENT = b"\1"
"""Before a refusal: the process ran out of memory and leaves after this answer (replace it)."""


class CheckerUnavailable(Exception):
    """A checking process died (it is replaced): the upload was neither accepted nor refused."""


class _CheckingProcess:
    """One checking process, its end of the pipe and its staging folder."""

    def __init__(self, context, folder: Path, required: tuple[str, ...], memory_bytes: int):
        self.folder = folder
        folder.mkdir(mode=0o700)
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=serve_checks, args=(child_end, str(folder), required, memory_bytes),
                                       name="convgrade-checker", daemon=True)
        self.process.start()
        child_end.close()

    def wait_ready(self, timeout_s: float) -> None:
        if not self.connection.poll(timeout_s) or not self.connection.recv_bytes(REPLY_MAX).startswith(ACCEPTED):
            raise CheckerUnavailable("a checking process did not start")

    def kill(self) -> None:
        """SIGKILL, reaped, its staging folder removed (blocking: call it off the event loop)."""
        with contextlib.suppress(ProcessLookupError, AttributeError, ValueError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(10)
        self.connection.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class UploadChecker:
    def __init__(self, folder: Path, required: tuple[str, ...], workers: int | None = None,
                 timeout_s: float = 5.0, memory_bytes: int = DEFAULT_MEMORY_BYTES):
        """``required``: the functions the served assignment's pack asks a submission to define."""
        self.required = required
        self.memory_bytes = memory_bytes
        # Not tied to the cores: a check is milliseconds of CPU, so while slow ones run out their
        # time bound on some processes, the others still answer honest uploads at once.
        self.workers = workers or DEFAULT_WORKERS
        self.timeout_s = timeout_s
        self.folder = Path(folder)
        shutil.rmtree(self.folder, ignore_errors=True)  # what a killed server's checks left
        self.folder.mkdir(mode=0o700)
        # Not fork: the server has threads (the intake's, Dask's) whose locks a fork would copy.
        # Not forkserver either: its children hold its liveness pipe, so a checker busy in a long
        # parse kept the forkserver alive after the server died, and the checker's parent-death
        # signal, tied to the forkserver, never came. Spawned, each checker is the server's child.
        self.context = multiprocessing.get_context("spawn")
        self._names = itertools.count()
        self.processes: list[_CheckingProcess] = []
        self._idle: asyncio.Queue | None = None  # made in the event loop, at the first check
        self._replacing: set[asyncio.Task] = set()

    def _start_one(self) -> _CheckingProcess:
        checking = _CheckingProcess(self.context, self.folder / f"checker-{next(self._names)}", self.required,
                                    self.memory_bytes)
        try:
            checking.wait_ready(60)  # its imports and a first check, before it takes an upload
        except BaseException:
            checking.kill()
            raise
        return checking

    def warm(self) -> None:
        """Start every checking process (the loader's imports, a first compile), before the first upload."""
        while len(self.processes) < self.workers:
            self.processes.append(self._start_one())

    async def refusal(self, filename: str, data: bytes) -> str | None:
        """The loader's message when it refuses the upload (or when checking it took longer
        than ``timeout_s``); None when it is a submission. Cancelling it kills its process."""
        return (await self.verdict(filename, data))[0]

    async def verdict(self, filename: str, data: bytes) -> tuple[str | None, str | None]:
        """(the refusal, None) as ``refusal`` says, or (None, the loaded submission's content
        sha256) when it is a submission."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            for checking in self.processes:
                self._idle.put_nowait(checking)
        checking = await self._idle.get()
        healthy = False
        try:
            reply = await self._ask(checking, filename, data)
            healthy = not reply.startswith(SPENT)  # out of memory: it answered, and leaves
            reply = reply.removeprefix(SPENT)
        except asyncio.TimeoutError:
            return (f"checking the upload took over {self.timeout_s:g} s, so it was stopped: the loader reads "
                    "a submission in milliseconds, so this file is not one it can accept (an enormous file, or "
                    "thousands of merge-conflict blocks?)"), None
        except (EOFError, OSError):
            raise CheckerUnavailable("a checking process stopped") from None
        finally:
            if healthy:
                self._idle.put_nowait(checking)
            else:  # timed out, died or cancelled: killed and replaced, off the event loop
                task = asyncio.get_running_loop().create_task(self._replace(checking))
                self._replacing.add(task)
                task.add_done_callback(self._replacing.discard)
        if reply.startswith(ACCEPTED):
            digest = reply[1:].decode("ascii", errors="replace")
            return None, digest if _is_sha256(digest) else None
        return reply.decode("utf-8", errors="replace"), None

    async def _ask(self, checking: _CheckingProcess, filename: str, data: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(_send, checking.connection, filename, data)  # up to 20 MiB into a pipe
        readable = loop.create_future()
        descriptor = checking.connection.fileno()
        loop.add_reader(descriptor, lambda: readable.done() or readable.set_result(None))
        try:
            await asyncio.wait_for(readable, self.timeout_s)
        finally:
            loop.remove_reader(descriptor)
        return checking.connection.recv_bytes(REPLY_MAX)  # one atomic write: no wait here

    async def _replace(self, checking: _CheckingProcess) -> None:
        await asyncio.to_thread(checking.kill)
        while True:
            try:
                fresh = await asyncio.to_thread(self._start_one)
                break
            except Exception:  # the machine is short of something: try again, not in a tight loop
                await asyncio.sleep(1)
        self.processes = [fresh if p is checking else p for p in self.processes]
        self._idle.put_nowait(fresh)

    def close(self) -> None:
        for checking in self.processes:
            checking.kill()
        self.processes = []
        shutil.rmtree(self.folder, ignore_errors=True)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _send(connection, filename: str, data: bytes) -> None:
    connection.send_bytes(filename.encode())
    connection.send_bytes(data)


# ------------------------------------------------------------- in the checking processes


def serve_checks(connection, folder: str, required: tuple[str, ...], memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
    """A checking process's life: one upload at a time, until the server's end closes or a
    check runs out of memory."""
    die_with_parent()
    limit_memory(memory_bytes)  # before any upload is read
    warm = "".join(f"def {name}(*args):\n    return None\n" for name in required).encode()
    filename, data = "warm.py", warm
    while True:
        check = Path(tempfile.mkdtemp(dir=folder))
        try:
            verdict = _verdict(*loader_verdict(check, filename, data, required))
        except MemoryError:
            verdict = SPENT + _verdict(out_of_memory(memory_bytes))
        connection.send_bytes(verdict)
        shutil.rmtree(check, ignore_errors=True)  # after the answer: it takes milliseconds on some filesystems
        if verdict.startswith(SPENT):
            return  # the server replaces this process
        try:
            filename = connection.recv_bytes().decode()
            data = connection.recv_bytes()
        except (EOFError, OSError):  # the server is gone
            return


def out_of_memory(memory_bytes: int) -> str:
    return (f"checking the upload needed more than {memory_bytes / (1 << 30):g} GiB of memory, so it was stopped: "
            "the loader reads a submission in a few MiB, so this file is not one it can accept (an enormous "
            "file, notebook or archive?)")


def limit_memory(memory_bytes: int) -> None:
    """RLIMIT_AS on this process: an allocation past it is a MemoryError, not the machine's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _verdict(refusal: str | None, content_sha256: str = "") -> bytes:
    if refusal is None:
        return ACCEPTED + content_sha256.encode("ascii")
    encoded = refusal.encode("utf-8", errors="replace")
    if encoded[:1] in (ACCEPTED, SPENT):  # the first byte says what the reply is
        encoded = b" " + encoded
    return encoded if len(encoded) <= REPLY_MAX else encoded[:REPLY_MAX - 3].decode("utf-8", "ignore").encode() + b"..."


def die_with_parent() -> None:
    """SIGKILL when the parent (the server) dies (Linux's PR_SET_PDEATHSIG). If it is
    already gone, leave now."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        os._exit(1)


def loader_verdict(check: Path, filename: str, data: bytes, required: tuple[str, ...]) -> tuple[str | None, str]:
    """(the loader's refusal, "") or (None, the loaded submission's content sha256)."""
    from grader.intake.load import load_submission

    path = check / filename
    path.write_bytes(data)
    try:
        return None, load_submission(path, check / "staging", required=required).sha256
    except (SubmissionError, UsageError) as exc:
        return str(exc), ""
