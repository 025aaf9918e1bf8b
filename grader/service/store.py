"""Submissions' bytes, content-addressed: DATA/store/<sha256[:2]>/<sha256>.

Blobs are stored in groups (the uploads that arrive together): each is written to a
temporary file in its folder; one sync makes them all durable; they are renamed into
place; a second sync makes the names durable. Only then does ``put_many`` return, so an
acknowledged submission survives a crash of the process or the machine, and a name in
the store always holds its whole content. Two syncs per group instead of two fsyncs per
blob: a burst of 200 uploads costs milliseconds, not a second. The same bytes submitted
twice are stored once.

A server killed in the middle of a group leaves its temporary files (a 14 MiB upload's,
say): nothing would ever name them. They are removed when the next server opens the store
(``sweep_temporary_files``), those older than its start only, so that the temporary files
of a group still being written elsewhere are left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import sys
import tempfile
from pathlib import Path


class ContentStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def sweep_temporary_files(self, older_than: float) -> int:
        """Remove the temporary files a killed server left (modified before ``older_than``, a
        time.time()); how many. Only the store's own names: ``??/.*.tmp``."""
        removed = 0
        for temp in self.root.glob("??/.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if temp.is_file() and not temp.is_symlink() and temp.stat().st_mtime < older_than:
                    temp.unlink()
                    removed += 1
        return removed

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; its sha256."""
        return self.put_many([data])[0]

    def put_many(self, blobs: list[bytes]) -> list[str]:
        """Store every blob durably (see the module's note); their sha256, in order."""
        digests = [hashlib.sha256(data).hexdigest() for data in blobs]
        pending: dict[Path, str] = {}  # final name -> its temporary file, one per new content
        try:
            for digest, data in zip(digests, blobs):
                target = self.path(digest)
                if target in pending or target.is_file():
                    continue
                target.parent.mkdir(exist_ok=True)
                descriptor, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
                pending[target] = temp
                with os.fdopen(descriptor, "wb") as stream:
                    stream.write(data)
            if not pending:
                return digests
            self._sync(pending.values())  # the contents, before any name points at them
            for target, temp in list(pending.items()):
                os.replace(temp, target)
                del pending[target]
            self._sync({str(target.parent) for target in map(self.path, digests)})  # the names
        finally:
            for temp in pending.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        return digests

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        """Remove a blob no job needs (a rejected upload's); gone already is fine."""
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()

    def all(self) -> set[str]:
        return {p.name for p in self.root.glob("??/*") if not p.name.startswith(".")}

    def _sync(self, paths) -> None:
        """Make ``paths`` (files or folders of the store) durable: on Linux, one syncfs of the
        store's filesystem for all of them; elsewhere, an fsync each."""
        if _syncfs is not None:
            descriptor = os.open(self.root, os.O_RDONLY)
            try:
                if _syncfs(descriptor) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"syncfs: {os.strerror(error)}")
            finally:
                os.close(descriptor)
            return
        for path in paths:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _load_syncfs():
    """syncfs(2) from the C library (Linux; the standard library has only sync and fsync)."""
    if not sys.platform.startswith("linux"):
        return None
    function = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if function is not None:
        function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
    return function


_syncfs = _load_syncfs()
