"""A zip archive's members, checked one by one before anything is extracted.

Refused: names that would write outside the extraction folder, symlinks, encryption,
unknown compression, members over the caps or expanding suspiciously, and members
that clash. The sizes checked here are the headers'; staging checks the bytes read.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
import zlib

from grader.errors import SubmissionError
from grader.intake.limits import RATIO_CHECK_MIN_BYTES, SKIPPED_DIRS, LoadLimits, per_file_cap


def validated_members(archive: zipfile.ZipFile, limits: LoadLimits) -> list[tuple[str, zipfile.ZipInfo]]:
    """The members to extract as (relative POSIX path, info); raises on the first bad member.

    Runs over every member before anything is written. The sizes checked here are the
    ones the headers declare; the staging area checks the bytes actually read again.
    """
    kept: list[tuple[str, zipfile.ZipInfo]] = []
    for info in archive.infolist():
        parts = _safe_member_parts(info)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SubmissionError(
                f"symlinks are not allowed: {info.filename} -> {_link_target(archive, info)}",
                "replace the link by a copy of the file it points to",
            )
        if parts is None or info.is_dir() or SKIPPED_DIRS.intersection(parts):
            continue
        rel = "/".join(parts)
        _check_member(info, rel, limits)
        kept.append((rel, info))
    _check_archive_totals(kept, limits)
    _refuse_clashing_paths(kept)
    return kept


def _safe_member_parts(info: zipfile.ZipInfo) -> tuple[str, ...] | None:
    """The member's path components, or None for a member naming no file (``./``).

    Refuses any name that could write outside the extraction folder.
    """
    name = info.filename
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise SubmissionError(f"member {name!r} has control characters in its name")
    # Windows tools write backslashes; zipfile only converts os.sep, which is / here.
    normalised = name.replace("\\", "/")
    if normalised.startswith("/"):
        raise SubmissionError(f"member {name} has an absolute path")
    if re.match(r"[A-Za-z]:", normalised):
        raise SubmissionError(f"member {name} starts with a drive letter")
    parts = tuple(part for part in normalised.split("/") if part not in ("", "."))
    if ".." in parts:
        raise SubmissionError(f"member {name} has a '..' component, which would write outside the archive's folder")
    return parts or None


def _link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """What a symlink member points to (its data), read into memory only, for the message."""
    try:
        with archive.open(info) as stream:
            return stream.read(256).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        return "(unreadable target)"


def _check_member(info: zipfile.ZipInfo, rel: str, limits: LoadLimits) -> None:
    member = info.filename
    if info.flag_bits & 0x1:
        raise SubmissionError(f"member {member} is encrypted", "zip it again without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        raise SubmissionError(f"member {member} uses unsupported compression method {info.compress_type}")
    if info.file_size >= RATIO_CHECK_MIN_BYTES:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise SubmissionError(
                f"member {member} expands {ratio:.0f} times ({info.compress_size} bytes to {info.file_size}), "
                f"over the compression ratio limit of {limits.max_compression_ratio:g}"
            )
    cap = per_file_cap(rel, limits)
    if info.file_size > cap:
        raise SubmissionError(f"member {member} expands to {info.file_size} bytes, over the {cap}-byte per-file limit")


def _check_archive_totals(kept: list[tuple[str, zipfile.ZipInfo]], limits: LoadLimits) -> None:
    if len(kept) > limits.max_files:
        raise SubmissionError(
            f"archive has {len(kept)} files, over the {limits.max_files}-file limit "
            f"(passed at member {kept[limits.max_files][1].filename})"
        )
    total = sum(info.file_size for _, info in kept)
    if total > limits.max_total_bytes:
        running = 0
        for _, info in kept:
            running += info.file_size
            if running > limits.max_total_bytes:
                break
        raise SubmissionError(
            f"archive expands to {total} bytes, over the {limits.max_total_bytes}-byte limit "
            f"(passed at member {info.filename})"
        )


def _refuse_clashing_paths(kept: list[tuple[str, zipfile.ZipInfo]]) -> None:
    """Two members for one path, or a file where another member needs a folder, cannot both be extracted."""
    files: set[str] = set()
    folders: set[str] = set()
    for rel, info in kept:
        parts = rel.split("/")
        parents = {"/".join(parts[:depth]) for depth in range(1, len(parts))}
        if rel in files or rel in folders or parents & files:
            raise SubmissionError(f"member {info.filename} clashes with another member of the same path ({rel})")
        files.add(rel)
        folders |= parents
