"""Does a folder given to ``grade`` hold one student's work, or a whole class?

``grade`` treats a folder as one submission and grades the one file it picks, so a
folder of thirty students would get one grade for one of them. Before grading, the CLI
counts the folder's top-level entries that each look like a whole submission on their
own: a .py defining a required function, a subfolder holding one, a notebook defining
one, a .zip holding code. A student's folder has one such entry (``cs231n/``), sometimes
two (a backup copy); a class has one per student.

Only names and text are read (``ast`` parsing, zip member names); nothing is run.
"""

from __future__ import annotations

import ast
import os
import re
import zipfile
from pathlib import Path

from grader.load import default_functions
from grader.load_limits import SKIPPED_DIRS, LoadLimits
from grader.syntax_errors import parse_quietly

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
