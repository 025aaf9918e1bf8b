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
        .ipynb    reduced to its imports, definitions and constants (grader.intake.notebook)

Each step has its module: the caps (``limits``), a folder's files (``folder_scan``),
a zip's members (``zip_members``), the staged copy (``staging``), the module to grade
(``entry_choice``), and the wording of a file that does not compile (``syntax_errors``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.intake.entry_choice import Loaded, checked_entry_functions, choose_entry, nothing_defined, partial_note
from grader.errors import SubmissionError, UsageError
from grader.intake.folder_scan import scan_folder
from grader.harness import assignments
from grader.intake.limits import LoadLimits
from grader.intake.notebook import notebook_to_module
from grader.intake.staging import StagingArea, check_size, open_source, read_capped
from grader.intake.zip_members import validated_members


def default_functions() -> tuple[str, ...]:
    """The default assignment pack's student functions; callers grading another
    assignment pass their pack's names."""
    return tuple(assignments.default().STUDENT_FUNCTIONS.values())



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


def load_submission(
    path: Path,
    staging_dir: Path,
    *,
    required: tuple[str, ...] | None = None,
    limits: LoadLimits = LoadLimits(),
    rewrite: dict[str, bytes] | None = None,
) -> LoadedSubmission:
    """Stage ``path`` (a .py, folder, .zip or .ipynb) into a fresh folder under ``staging_dir``.

    ``rewrite`` maps staged paths (relative, POSIX; a notebook's generated module too) to
    the bytes to stage there instead of the student's: a what-if copy (grader.grading.whatif).

    Raises ``UsageError`` when ``path`` does not exist, ``SubmissionError`` when the
    submission is unusable (the student's fault); nothing is left in ``staging_dir`` then.
    """
    path = Path(path)
    required = required or default_functions()
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
             rewrite: dict[str, bytes]) -> Loaded:
    staging = StagingArea(root, limits, rewrite)
    name = path.name
    check_size(path, limits.max_file_bytes, origin=name, limit="per-file limit")
    with open_source(path) as stream:
        staging.write(name, stream, origin=name)
    found = checked_entry_functions(name, staging.read(name), required)
    if not found:
        raise nothing_defined(required, [name])
    return Loaded(staging.digest_of(name), name, found, partial_note(name, found, required))


def _load_notebook(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
                   rewrite: dict[str, bytes]) -> Loaded:
    staging = StagingArea(root, limits, rewrite)
    origin = f"notebook {path.name}"
    check_size(path, limits.max_notebook_bytes, origin=origin, limit="limit")
    with open_source(path) as stream:
        raw = read_capped(stream, limits.max_notebook_bytes, origin=origin)
    source, notes = notebook_to_module(raw, required)
    entry = "submission.py"
    staging.write_generated(entry, source)
    found = checked_entry_functions(entry, source.encode(), required)
    if not found:
        raise nothing_defined(required, [path.name])
    return Loaded(hashlib.sha256(raw).hexdigest(), entry, found, notes + partial_note(entry, found, required))


def _load_folder(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
                 rewrite: dict[str, bytes]) -> Loaded:
    files, notes = scan_folder(path, limits)
    staging = StagingArea(root, limits, rewrite)
    for rel, source in files:
        with open_source(source) as stream:
            staging.write(rel, stream, origin=f"file {rel}")
    return choose_entry(staging, required, notes)


def _load_zip(path: Path, root: Path, required: tuple[str, ...], limits: LoadLimits,
              rewrite: dict[str, bytes]) -> Loaded:
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    # UnicodeDecodeError: a member flagged as UTF-8 whose name is not.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        hint = "make it with a zip tool, or submit the folder"
        raise SubmissionError(f"not a valid zip archive: {exc}", hint) from exc
    with archive:
        members = validated_members(archive, limits)
        staging = StagingArea(root, limits, rewrite)
        for rel, info in members:
            try:
                with archive.open(info) as stream:
                    staging.write(rel, stream, origin=f"member {info.filename}")
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise SubmissionError(f"not a valid zip archive: member {info.filename} is corrupt ({exc})") from exc
    return choose_entry(staging, required, [])


_LOADERS = {"py": _load_py, "ipynb": _load_notebook, "folder": _load_folder, "zip": _load_zip}


