"""The loader's verdict on an upload, in a small pool of processes beside the server.

Checking an upload parses and compiles it (nothing of it runs): a couple of milliseconds
of CPU each, which in the server's own process would hold its GIL and make a burst of
uploads queue behind each other. The pool's processes check in parallel, off that GIL.
Each check stages the upload in a folder of its own under the checker's folder
(DATA/checking: students' code stays in DATA); it is removed by a thread of the checking
process after the verdict is sent (removing folders takes milliseconds on some
filesystems), and what a crash left is removed at the next start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from grader.errors import SubmissionError, UsageError


class CheckerUnavailable(Exception):
    """A checking process died (its pool is replaced): the upload was neither accepted nor refused."""


class UploadChecker:
    def __init__(self, folder: Path, required: tuple[str, ...], workers: int | None = None):
        """``required``: the functions the served assignment's pack asks a submission to define."""
        self.required = required
        self.workers = workers or min(4, len(os.sched_getaffinity(0)))
        self.folder = str(folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        os.mkdir(self.folder, 0o700)
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # Not fork: the server has threads (the intake's, Dask's) whose locks a fork would copy.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context)

    def warm(self) -> None:
        """Start every checking process and check a file there (the loader's imports, its
        first compile), before the first upload."""
        warm = "".join(f"def {name}(*args):\n    return None\n" for name in self.required).encode()
        for future in [self.pool.submit(loader_refusal, self.folder, "warm.py", warm, self.required)
                       for _ in range(self.workers)]:
            future.result()

    async def refusal(self, filename: str, data: bytes) -> str | None:
        """The loader's message when it refuses the upload; None when it is a submission."""
        pool = self.pool
        try:
            return await asyncio.wrap_future(pool.submit(loader_refusal, self.folder, filename, data, self.required))
        except BrokenProcessPool:
            if self.pool is pool:
                self.pool = self._new_pool()
            raise CheckerUnavailable("a checking process stopped") from None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------- in the checking processes

_remover: ThreadPoolExecutor | None = None


def loader_refusal(folder: str, filename: str, data: bytes, required: tuple[str, ...]) -> str | None:
    global _remover
    from grader.load import load_submission

    check = Path(tempfile.mkdtemp(dir=folder))
    try:
        path = check / filename
        path.write_bytes(data)
        load_submission(path, check / "staging", required=required)
        return None
    except (SubmissionError, UsageError) as exc:
        return str(exc)
    finally:
        _remover = _remover or ThreadPoolExecutor(1, thread_name_prefix="convgrade-remover")
        _remover.submit(shutil.rmtree, check, ignore_errors=True)
