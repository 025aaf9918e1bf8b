"""A class folder: is a folder one student's work or a whole class, and who are its students.

Does a folder given to ``grade`` hold one student's work, or a whole class?

``grade`` treats a folder as one submission and grades the one file it picks, so a
folder of thirty students would get one grade for one of them. Before grading, the CLI
counts the folder's top-level entries that each look like a whole submission on their
own: a .py defining a required function, a subfolder holding one, a notebook defining
one, a .zip holding code. A student's folder has one such entry (``cs231n/``), sometimes
two (a backup copy); a class has one per student.

Only names and text are read (``ast`` parsing, zip member names); nothing is run.

The students of a class folder (``grade-all``): one per entry, by id; and the ids ``--only``
names, checked. Each entry of the folder (a .py, a folder, a .zip or an .ipynb) is one student, whose id
is ``grader.intake.load.submission_id_for`` of its name. Hidden entries (.DS_Store), tool debris
(__MACOSX) and files of other kinds (a roster.csv) are ignored, with the reason. Entries
that share an id are refused, every such conflict named at once.
"""

from __future__ import annotations

import ast
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.harness.text import clean
from grader.intake.limits import SKIPPED_DIRS, LoadLimits
from grader.intake.load import default_functions, kind_of, submission_id_for
from grader.intake.syntax_errors import parse_quietly

CLASS_AT = 3
"""This many submission-like entries make a folder a class: ``grade`` refuses it."""
WARN_AT = 2
"""This many get a warning, and are graded as one student."""

_MAX_FILES_LOOKED_AT = 2000


def submission_like_entries(folder: Path, required: tuple[str, ...] | None = None) -> list[str]:
    """Names of the top-level entries of ``folder`` that each look like a whole submission."""
    required = required or default_functions()
    found = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []  # the loader reports an unreadable folder in its own words
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS or entry.is_symlink():
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if _folder_defines(path, required):
                found.append(entry.name)
        elif entry.is_file(follow_symlinks=False) and _file_defines(path, required):
            found.append(entry.name)
    return found


def _folder_defines(folder: Path, required: tuple[str, ...]) -> bool:
    looked_at = 0
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            looked_at += 1
            if looked_at > _MAX_FILES_LOOKED_AT:
                return False
            path = Path(directory, name)
            if not path.is_symlink() and path.suffix.lower() in (".py", ".ipynb") and _file_defines(path, required):
                return True
    return False


def _file_defines(path: Path, required: tuple[str, ...]) -> bool:
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size > LoadLimits().max_notebook_bytes:
            return False
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                return any(name.lower().endswith((".py", ".ipynb")) for name in archive.namelist())
        if suffix == ".ipynb":
            text = path.read_text(errors="replace")
            return any(re.search(rf"def\s+{re.escape(name)}\b", text) for name in required)
        if suffix == ".py":
            tree = parse_quietly(path.read_bytes(), path.name)
            return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in required for node in tree.body)
    except (OSError, zipfile.BadZipFile, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return False


# ---------------------------------------------------------- the students of a class


@dataclass(frozen=True)
class Student:
    id: str
    path: Path


def discover_submissions(folder: Path) -> tuple[list[Student], list[tuple[str, str]]]:
    """The students in ``folder``, by id, and the entries ignored with the reason."""
    if not folder.is_dir():
        raise UsageError(f"submissions folder not found: {folder}")
    students: dict[str, Student] = {}
    ignored: list[tuple[str, str]] = []
    conflicts: dict[str, list[str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda path: path.name):
        if entry.name.startswith("."):
            ignored.append((entry.name, "hidden entry"))
            continue
        if entry.name in SKIPPED_DIRS:
            ignored.append((entry.name, "tool or OS debris"))
            continue
        try:
            kind = kind_of(entry)
        except (SubmissionError, UsageError) as exc:
            ignored.append((entry.name, f"not a submission: {exc}"))
            continue
        student_id = submission_id_for(entry.name if kind == "folder" else entry.stem)
        if student_id in students:
            conflicts.setdefault(student_id, [students[student_id].path.name]).append(entry.name)
            continue
        students[student_id] = Student(student_id, entry)
    if conflicts:
        # Every conflict at once: a TA renames them all in one pass, not one per run.
        names_of = {student_id: [clean(name) for name in names] for student_id, names in conflicts.items()}
        lines = [f"{' and '.join(names)} all give the student id {student_id!r}" if len(names) > 2 else
                 f"{names[0]} and {names[1]} both give the student id {student_id!r}"
                 for student_id, names in sorted(names_of.items())]
        raise UsageError(f"{len(conflicts)} student id(s) given by more than one entry; rename all but one of "
                         "each:\n  " + "\n  ".join(lines))
    if not students:
        raise UsageError(f"no submissions in {folder} (expected .py files, folders, .zip or .ipynb files)")
    return sorted(students.values(), key=lambda student: student.id), ignored


def checked_only_ids(only: list[str] | None, students: list[Student]) -> set[str] | None:
    """The ids of --only, checked before anything is graded: a typo must not regrade nobody."""
    if only is None:
        return None
    wanted = {submission_id_for(i.strip()) for item in only for i in item.split(",") if i.strip()}
    if not wanted:
        raise UsageError("--only needs at least one student id")
    known = {student.id for student in students}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(f"--only: no submission for {', '.join(unknown)} (ids are file names without the "
                         "extension, lower-cased)")
    return wanted
