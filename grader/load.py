"""Load a submission on the host: validate it, stage a clean copy, find the module to grade.

Nothing here runs student code. Files are only read, parsed with ``ast``/``compile`` and
copied. Archives are checked member by member before anything is extracted, and the
size caps are enforced again on the bytes actually read, so a header that lies cannot
fill the disk. The staged copy is what the sandbox mounts, so it holds regular files
only, readable by an unprivileged user (files 0o644, folders 0o755).

    load_submission(path, staging_dir)  -> LoadedSubmission
        .py       copied as it is
        folder    walked without following links (any symlink is refused), then copied
        .zip      every member validated, then extracted under the caps, then as a folder
        .ipynb    reduced to its imports, definitions and constants (grader.notebook)
"""

from __future__ import annotations

import ast
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from grader.errors import SubmissionError, UsageError
from grader.harness.text import clean
from grader.notebook import notebook_to_module
from grader.repair import conflict_marker_lines, conflicts, line_ranges, tab_indented_lines

MAX_NAME_BYTES = 255  # per path component, as Linux file systems allow
MAX_DEPTH = 32  # folders; a course's layout (cs231n/classifiers/...) is a handful

MiB = 1024 * 1024

# The functions of the CS231n convolution assignment; callers grading another
# assignment pass their own names.
CONV_FUNCTIONS = ("conv_forward_naive", "conv_backward_naive")

# Tool and OS debris, never part of what the student wrote; not copied, not counted.
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX"})

# Text and notebooks compress 3-10x; a ratio of hundreds only matters when it lets a
# small member turn into a big one. Small members (a file of zeros, a blank .npy) may
# compress enormously and are harmless, so the ratio is only checked above this size.
RATIO_CHECK_MIN_BYTES = 1 * MiB

_COPY_CHUNK = 256 * 1024
_UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


@dataclass(frozen=True)
class LoadLimits:
    """Caps on what a submission may bring; every refusal quotes the number and its cap."""

    max_total_bytes: int = 20 * MiB
    """Uncompressed total of all the files kept."""
    max_files: int = 2000
    max_file_bytes: int = 5 * MiB
    """Per file; a notebook (which carries its plots) may use up to max_notebook_bytes."""
    max_compression_ratio: float = 200
    max_notebook_bytes: int = 20 * MiB


@dataclass(frozen=True)
class LoadedSubmission:
    submission_id: str
    """From the file or folder name: stem, lowercased, anything not [a-z0-9_-] replaced by '-'."""
    source_name: str
    """The original file or folder name."""
    sha256: str
    """Of a file's bytes; for a folder or zip, over the sorted (relative path, sha256) pairs kept."""
    kind: Literal["py", "folder", "zip", "ipynb"]
    root: Path
    """The staged copy, a fresh folder inside the staging dir."""
    entry: str
    """POSIX path, relative to root, of the module that defines the functions."""
    functions_found: tuple[str, ...]
    """Which of the required names the entry defines at top level, in the required order."""
    notes: tuple[str, ...]
    """Things worth telling the student that are not errors."""


@dataclass(frozen=True)
class _Loaded:
    """What a kind-specific loader found, before it becomes a LoadedSubmission."""

    sha256: str
    entry: str
    functions_found: tuple[str, ...]
    notes: list[str]


def load_submission(
    path: Path,
    staging_dir: Path,
    *,
    required: tuple[str, ...] = CONV_FUNCTIONS,
    limits: LoadLimits = LoadLimits(),
    rewrite: dict[str, bytes] | None = None,
) -> LoadedSubmission:
    """Stage ``path`` (a .py, folder, .zip or .ipynb) into a fresh folder under ``staging_dir``.

    ``rewrite`` maps staged paths (relative, POSIX; a notebook's generated module too) to
    the bytes to stage there instead of the student's: a what-if copy (grader.whatif).

    Raises ``UsageError`` when ``path`` does not exist, ``SubmissionError`` when the
    submission is unusable (the student's fault); nothing is left in ``staging_dir`` then.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"submission not found: {path}")
    # abspath, not resolve: "." gets a name, and a symlinked submission keeps the name
    # the caller gave it. A symlink given as the submission itself is the caller's choice;
    # only links inside a submission are the student's and refused.
    source_name = Path(os.path.abspath(path)).name
    kind = kind_of(path)
    submission_id = submission_id_for(source_name if kind == "folder" else Path(source_name).stem)

    staging_dir = Path(os.path.abspath(staging_dir))  # the sandbox mounts root by absolute path
    staging_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"{submission_id}-", dir=staging_dir))
    try:
        os.chmod(root, 0o755)
        loaded = _LOADERS[kind](path, root, required, limits, rewrite or {})
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return LoadedSubmission(
        submission_id=submission_id,
        source_name=source_name,
        sha256=loaded.sha256,
        kind=kind,
        root=root,
        entry=loaded.entry,
        functions_found=loaded.functions_found,
        notes=tuple(loaded.notes),
    )


def kind_of(path: Path) -> Literal["py", "folder", "zip", "ipynb"]:
    if path.is_dir():
        return "folder"
    if not path.is_file():
        raise UsageError(f"submission is neither a file nor a folder: {path}")
    suffix = path.suffix.lower()
    if suffix in (".py", ".zip", ".ipynb"):
        return suffix[1:]  # type: ignore[return-value]
    got = suffix if suffix else f"a file without an extension ({path.name})"
    raise SubmissionError(f"expected a .py file, a folder, a .zip or an .ipynb, got {got}")


def submission_id_for(stem: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", stem.lower())


# --- the four kinds ---------------------------------------------------------------


def _load_py(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
             rewrite: dict[str, bytes]) -> _Loaded:
    staging = _StagingArea(root, limits, rewrite)
    name = path.name
    _check_size(path, limits.max_file_bytes, origin=name, limit="per-file limit")
    with _open_source(path) as stream:
        staging.write(name, stream, origin=name)
    found = _checked_entry_functions(name, staging.read(name), required)
    if not found:
        raise _nothing_defined(required, [name])
    return _Loaded(staging.digest_of(name), name, found, _partial_note(name, found, required))


def _load_notebook(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
                   rewrite: dict[str, bytes]) -> _Loaded:
    staging = _StagingArea(root, limits, rewrite)
    origin = f"notebook {path.name}"
    _check_size(path, limits.max_notebook_bytes, origin=origin, limit="limit")
    with _open_source(path) as stream:
        raw = _read_capped(stream, limits.max_notebook_bytes, origin=origin)
    source, notes = notebook_to_module(raw, required)
    entry = "submission.py"
    staging.write_generated(entry, source)
    found = _checked_entry_functions(entry, source.encode(), required)
    if not found:
        raise _nothing_defined(required, [path.name])
    return _Loaded(hashlib.sha256(raw).hexdigest(), entry, found, notes + _partial_note(entry, found, required))


def _load_folder(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
                 rewrite: dict[str, bytes]) -> _Loaded:
    files, notes = _scan_folder(path, limits)
    staging = _StagingArea(root, limits, rewrite)
    for rel, source in files:
        with _open_source(source) as stream:
            staging.write(rel, stream, origin=f"file {rel}")
    return _choose_entry(staging, required, notes)


def _load_zip(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
              rewrite: dict[str, bytes]) -> _Loaded:
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    # UnicodeDecodeError: a member flagged as UTF-8 whose name is not.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        hint = "make it with a zip tool, or submit the folder"
        raise SubmissionError(f"not a valid zip archive: {exc}", hint) from exc
    with archive:
        members = _validated_members(archive, limits)
        staging = _StagingArea(root, limits, rewrite)
        for rel, info in members:
            try:
                with archive.open(info) as stream:
                    staging.write(rel, stream, origin=f"member {info.filename}")
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise SubmissionError(f"not a valid zip archive: member {info.filename} is corrupt ({exc})") from exc
    return _choose_entry(staging, required, [])


_LOADERS = {"py": _load_py, "ipynb": _load_notebook, "folder": _load_folder, "zip": _load_zip}


# --- folders ----------------------------------------------------------------------


def _scan_folder(top: Path, limits: LoadLimits) -> tuple[list[tuple[str, Path]], list[str]]:
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
            cap = _file_cap(rel, limits)
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


# --- zip archives -----------------------------------------------------------------


def _validated_members(archive: zipfile.ZipFile, limits: LoadLimits) -> list[tuple[str, zipfile.ZipInfo]]:
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
    cap = _file_cap(rel, limits)
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


def _file_cap(rel: str, limits: LoadLimits) -> int:
    # A notebook carries its plots as base64; a few MiB is normal for one.
    if rel.lower().endswith(".ipynb"):
        return max(limits.max_file_bytes, limits.max_notebook_bytes)
    return limits.max_file_bytes


# --- the staging area -------------------------------------------------------------


class _StagingArea:
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
        file_cap = _file_cap(rel, self.limits)
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


def _open_source(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def _check_size(path: Path, cap: int, *, origin: str, limit: str) -> None:
    size = path.stat().st_size
    if size > cap:
        raise SubmissionError(f"{origin} is {size} bytes, over the {cap}-byte {limit}")


def _read_capped(stream: BinaryIO, cap: int, *, origin: str) -> bytes:
    """Read at most ``cap`` bytes; the file may have grown since its size was checked."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise SubmissionError(f"{origin} holds more than {cap} bytes when read, over the {cap}-byte limit")
    return data


# --- finding the entry ------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    path: str
    found: tuple[str, ...]
    error: BaseException | None
    """Why the file does not parse; its functions were then found by a text search."""

    def sort_key(self) -> tuple:
        # Most required functions first, then the assignment's own file, then the
        # shallowest and shortest path; the path itself makes the order total.
        is_layers = self.path == "cs231n/layers.py" or self.path.endswith("/cs231n/layers.py")
        return (-len(self.found), not is_layers, self.path.count("/"), len(self.path), self.path)


def _choose_entry(staging: _StagingArea, required: tuple[str, ...], notes: list[str]) -> _Loaded:
    """Pick the .py that defines the most required functions; failing that, a notebook."""
    python_files = [path for path in staging.paths() if path.lower().endswith(".py")]
    candidates = [_inspect(path, staging.read(path), required) for path in python_files]
    defining = sorted((c for c in candidates if c.found), key=_Candidate.sort_key)
    if not defining:
        return _choose_notebook(staging, required, notes, python_files)

    best = defining[0]
    data = staging.read(best.path)
    if best.error is not None:
        raise syntax_error(best.path, data, best.error)
    _checked_entry_functions(best.path, data, required)  # compile-time errors ast.parse lets through
    for broken in (c for c in candidates if c.error is not None):
        notes.append(f"{broken.path} does not parse ({describe_parse_error(broken.error)}) and was not considered")
    others = defining[1:]
    if others:
        names = [name for name in required if any(name in other.found for other in others)]
        verb = "file also defines" if len(others) == 1 else "files also define"
        notes.append(f"{len(others)} other {verb} {' and '.join(names)}; using {best.path}")
    notes.extend(_partial_note(best.path, best.found, required))
    return _Loaded(staging.submission_digest(), best.path, best.found, notes)


def _choose_notebook(
    staging: _StagingArea, required: tuple[str, ...], notes: list[str], python_files: list[str]
) -> _Loaded:
    """No .py defines a required function: use the notebook that does, converted next to it."""
    notebooks = [path for path in staging.paths() if path.lower().endswith(".ipynb")]
    failures: list[tuple[str, SubmissionError]] = []
    converted: list[tuple[_Candidate, str, list[str]]] = []
    for path in notebooks:
        try:
            source, notebook_notes = notebook_to_module(staging.read(path), required)
        except SubmissionError as exc:
            failures.append((path, exc))
            continue
        candidate = _inspect(path, source.encode(), required)
        if candidate.found:
            converted.append((candidate, source, notebook_notes))
    if not converted:
        if len(failures) == 1 and len(notebooks) == 1:
            path, exc = failures[0]
            raise SubmissionError(f"{path}: {exc.message}", exc.hint) from exc
        raise _nothing_defined(required, python_files + notebooks)

    candidate, source, notebook_notes = min(converted, key=lambda item: item[0].sort_key())
    entry = _free_name(staging, candidate.path[: -len(".ipynb")])
    staging.write_generated(entry, source)
    _checked_entry_functions(entry, source.encode(), required)
    notes.append(
        f"no .py file defines {' or '.join(required)}; using the code of notebook {candidate.path} "
        f"(converted to {entry})"
    )
    notes.extend(notebook_notes)
    notes.extend(_partial_note(entry, candidate.found, required))
    return _Loaded(staging.submission_digest(), entry, candidate.found, notes)


def _free_name(staging: _StagingArea, stem: str) -> str:
    """``stem.py`` unless the student already has such a file; never overwrite theirs."""
    taken = set(staging.paths())
    name, counter = f"{stem}.py", 1
    while name in taken:
        name = f"{stem}_from_notebook{'' if counter == 1 else counter}.py"
        counter += 1
    return name


def _inspect(path: str, data: bytes, required: tuple[str, ...]) -> _Candidate:
    try:
        return _Candidate(path, _top_level_functions(parse_quietly(data, path), required), None)
    except _UNPARSEABLE as exc:
        text = data.decode("utf-8", errors="replace")
        found = tuple(name for name in required if re.search(rf"^def\s+{re.escape(name)}\b", text, re.MULTILINE))
        return _Candidate(path, found, exc)


def _top_level_functions(tree: ast.Module, required: tuple[str, ...]) -> tuple[str, ...]:
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return tuple(name for name in required if name in defined)


def _checked_entry_functions(entry: str, data: bytes, required: tuple[str, ...]) -> tuple[str, ...]:
    """The required functions ``entry`` defines; raises when it does not compile.

    ``compile`` (which runs nothing) also catches what ``ast.parse`` accepts but Python
    refuses, such as ``return`` outside a function.
    """
    try:
        tree = parse_quietly(data, entry)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(tree, entry, "exec", dont_inherit=True)
    except _UNPARSEABLE as exc:
        raise syntax_error(entry, data, exc) from exc
    return _top_level_functions(tree, required)


def _partial_note(entry: str, found: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    missing = [name for name in required if name not in found]
    if not found or not missing:
        return []
    return [f"{entry} defines {' and '.join(found)} but not {' or '.join(missing)}"]


def _nothing_defined(required: tuple[str, ...], looked_at: list[str]) -> SubmissionError:
    shown = ", ".join(looked_at[:10])
    if len(looked_at) > 10:
        shown += f" and {len(looked_at) - 10} more"
    if not looked_at:
        hint = "the submission has no .py or .ipynb file"
    else:
        hint = f"looked for top-level `def` statements in: {shown}"
    return SubmissionError(f"no file defines {' or '.join(required)}", hint)


# --- syntax errors ----------------------------------------------------------------


def parse_quietly(source: str | bytes, filename: str) -> ast.Module:
    """``ast.parse`` without the SyntaxWarnings and DeprecationWarnings student code provokes.

    An invalid escape like ``'\\d'`` is the student's business, not noise for the grader's log.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=filename)


# Python 2 constructs, looked for on the line the error points at.
_PYTHON2_LINE = [
    re.compile(r"^\s*print\s+[^\s(=.]"),  # print "x", print x, print >>f, x
    re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"),  # except ValueError, e:
    re.compile(r"^\s*raise\s+[\w.]+\s*,"),  # raise ValueError, "message"
    re.compile(r"`"),  # `x` meant repr(x)
    re.compile(r"\b[uU][rR][\"']"),  # ur'' strings
    re.compile(r"<>"),
]
_PYTHON2_MESSAGES = ("Missing parentheses in call to", "leading zeros in decimal integer literals")
_PYTHON2_HINT = "this looks like Python 2 code; the grader runs Python 3"


class EntrySyntaxError(SubmissionError):
    """The module to grade does not compile. Carries what a what-if repair needs:
    the file (relative to the submission, or a notebook cell), its text, and the cause."""

    def __init__(self, message: str, hint: str | None, *, where: str, source: str, cause: str):
        super().__init__(message, hint)
        self.where = where
        self.source = source
        self.cause = cause
        """merge_conflict, tabs, python2_syntax or syntax (anything else)."""


def syntax_error(where: str, source: str | bytes, exc: BaseException) -> SubmissionError:
    """A SubmissionError for a file (or notebook cell) that does not compile, naming the cause
    when it is mechanical: merge-conflict markers, mixed tabs and spaces, Python 2 syntax."""
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    markers = conflict_marker_lines(text)
    if markers:
        blocks = conflicts(text)
        spans = line_ranges([n for b in blocks for n in range(b.start, b.end + 1)] if blocks else markers)
        return EntrySyntaxError(
            f"{where} still holds unresolved git merge-conflict markers (lines {spans})",
            "keep the side you want of each conflict and delete the <<<<<<<, ======= and >>>>>>> lines",
            where=where, source=text, cause="merge_conflict")
    if isinstance(exc, TabError):
        tabbed = tab_indented_lines(text)
        return EntrySyntaxError(
            f"{where} mixes tabs and spaces in its indentation (first refused at line {exc.lineno}; "
            f"tab-indented lines: {line_ranges(tabbed)})",
            "indent with spaces only (most editors can convert the indentation to spaces)",
            where=where, source=text, cause="tabs")
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    location = f"{where} line {line}" if line else where
    hint = python2_hint(source, exc)
    return EntrySyntaxError(f"syntax error in {location}: {_error_text(exc)}", hint, where=where, source=text,
                            cause="python2_syntax" if hint else "syntax")


def python2_hint(source: str | bytes, exc: BaseException) -> str | None:
    """The Python 2 hint when the error message or the offending line shows Python 2 syntax."""
    if not isinstance(exc, SyntaxError):
        return None
    if any(marker in exc.msg for marker in _PYTHON2_MESSAGES):
        return _PYTHON2_HINT
    line = exc.text
    if line is None and exc.lineno:
        text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
        lines = text.splitlines()
        line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
    if line and any(pattern.search(line) for pattern in _PYTHON2_LINE):
        return _PYTHON2_HINT
    return None


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg
    if isinstance(exc, (RecursionError, MemoryError)):
        return "too deeply nested to parse"
    return str(exc)


def describe_parse_error(exc: BaseException) -> str:
    """'line 3: invalid syntax', for notes about files that were skipped because they do not parse."""
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    return f"line {line}: {_error_text(exc)}" if line else _error_text(exc)
