"""A submitted folder's files, listed without following links, under the caps."""

from __future__ import annotations

import os
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.intake.limits import SKIPPED_DIRS, LoadLimits, per_file_cap


def scan_folder(top: Path, limits: LoadLimits) -> tuple[list[tuple[str, Path]], list[str]]:
    """The regular files to copy as (relative POSIX path, path), with the caps checked on their sizes.

    Symlinks are refused rather than skipped: a link to /etc/passwd or to another
    student's folder would otherwise hand its target to the sandbox.
    """
    files: list[tuple[str, Path]] = []
    total = 0
    special = 0
    pending = [(top, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            raise UsageError(f"cannot read folder {folder}: {exc.strerror}") from exc
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_symlink():
                raise SubmissionError(
                    f"symlinks are not allowed: {rel} -> {os.readlink(entry.path)}",
                    "replace the link by a copy of the file it points to",
                )
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS:
                    pending.append((Path(entry.path), rel + "/"))
                continue
            if not entry.is_file(follow_symlinks=False):
                special += 1  # fifo, socket or device: nothing a student wrote
                continue
            size = entry.stat(follow_symlinks=False).st_size
            cap = per_file_cap(rel, limits)
            if size > cap:
                raise SubmissionError(f"file {rel} is {size} bytes, over the {cap}-byte per-file limit")
            total += size
            if total > limits.max_total_bytes:
                raise SubmissionError(
                    f"folder holds at least {total} bytes, over the {limits.max_total_bytes}-byte limit "
                    f"(passed at file {rel})"
                )
            files.append((rel, Path(entry.path)))
            if len(files) > limits.max_files:
                raise SubmissionError(
                    f"folder has more than {limits.max_files} files, over the {limits.max_files}-file limit "
                    f"(passed at file {rel})"
                )
    if not special:
        return files, []
    return files, [f"skipped {special} special {'file' if special == 1 else 'files'} (fifo, socket or device)"]
