"""The staged copy of a submission: what the sandbox mounts, written under the caps.

It holds regular files only, readable by an unprivileged user (files 0o644, folders
0o755), and the caps are enforced on the bytes actually read, never on a header.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from pathlib import Path
from typing import BinaryIO

from grader.errors import SubmissionError, UsageError
from grader.harness.text import clean
from grader.intake.limits import LoadLimits, per_file_cap

MAX_NAME_BYTES = 255  # per path component, as Linux file systems allow
MAX_DEPTH = 32  # folders; a course's layout (cs231n/classifiers/...) is a handful
_COPY_CHUNK = 256 * 1024


class StagingArea:
    """Writes files under ``root`` (0o644, folders 0o755), enforcing the caps on bytes read."""

    def __init__(self, root: Path, limits: LoadLimits, rewrite: dict[str, bytes] | None = None):
        self.root = root
        self.limits = limits
        self.rewrite = rewrite or {}
        self.total_bytes = 0
        self.digests: dict[str, str] = {}

    def write(self, rel: str, stream: BinaryIO, *, origin: str) -> None:
        """Copy ``stream`` to ``root/rel``, counting what is read rather than trusting any header."""
        if rel in self.rewrite:
            stream = io.BytesIO(self.rewrite[rel])
        file_cap = per_file_cap(rel, self.limits)
        digest = hashlib.sha256()
        size = 0
        with self._create(rel, origin) as out:
            while chunk := stream.read(_COPY_CHUNK):
                size += len(chunk)
                self.total_bytes += len(chunk)
                if size > file_cap:
                    raise SubmissionError(
                        f"{origin} holds more than {file_cap} bytes when read, over the {file_cap}-byte per-file limit"
                    )
                if self.total_bytes > self.limits.max_total_bytes:
                    raise SubmissionError(
                        f"files hold more than {self.limits.max_total_bytes} bytes when read, over the "
                        f"{self.limits.max_total_bytes}-byte limit (passed while reading {origin})"
                    )
                digest.update(chunk)
                out.write(chunk)
        self.digests[rel] = digest.hexdigest()

    def write_generated(self, rel: str, text: str) -> None:
        """Write a file the grader made (a converted notebook); it is not part of the hash."""
        with self._create(rel, origin=rel) as out:
            out.write(self.rewrite.get(rel, text.encode("utf-8")))

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def digest_of(self, rel: str) -> str:
        return self.digests[rel]

    def submission_digest(self) -> str:
        """One hash for all the files kept: sha256 of the JSON list of sorted (path, sha256) pairs."""
        manifest = json.dumps(sorted(self.digests.items()), separators=(",", ":"))
        return hashlib.sha256(manifest.encode("ascii")).hexdigest()

    def paths(self) -> list[str]:
        return sorted(self.digests)

    def _create(self, rel: str, origin: str) -> BinaryIO:
        folder = self.root
        # O_EXCL|O_NOFOLLOW: never write through something already there, link or not.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            # A name the file system refuses (a 300-character folder, say) is the
            # submission's fault, reported as such, whatever step refuses it.
            if any(len(part.encode("utf-8", errors="surrogatepass")) > MAX_NAME_BYTES for part in rel.split("/")):
                raise OSError(errno.ENAMETOOLONG, f"a name in it is over {MAX_NAME_BYTES} bytes")
            # Thousands of nested folders overflow path lengths and every recursive walk
            # (copying, deleting) of the staged tree, long after staging.
            if rel.count("/") >= MAX_DEPTH:
                raise OSError(errno.ENAMETOOLONG, f"it is more than {MAX_DEPTH} folders deep")
            for part in rel.split("/")[:-1]:
                folder = folder / part
                if not folder.is_dir():
                    os.mkdir(folder)
                    os.chmod(folder, 0o755)  # mkdir's mode is masked by the umask
            descriptor = os.open(self.root / rel, flags, 0o644)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SubmissionError(f"cannot stage {clean(origin)[:300]}: {reason}") from exc
        os.fchmod(descriptor, 0o644)
        return os.fdopen(descriptor, "wb")


def open_source(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def check_size(path: Path, cap: int, *, origin: str, limit: str) -> None:
    size = path.stat().st_size
    if size > cap:
        raise SubmissionError(f"{origin} is {size} bytes, over the {cap}-byte {limit}")


def read_capped(stream: BinaryIO, cap: int, *, origin: str) -> bytes:
    """Read at most ``cap`` bytes; the file may have grown since its size was checked."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise SubmissionError(f"{origin} holds more than {cap} bytes when read, over the {cap}-byte limit")
    return data
