"""The students of a class folder: one per entry, by id; and the ids ``--only`` names, checked.

Each entry of the folder (a .py, a folder, a .zip or an .ipynb) is one student, whose id
is ``grader.load.submission_id_for`` of its name. Hidden entries (.DS_Store), tool debris
(__MACOSX) and files of other kinds (a roster.csv) are ignored, with the reason. Entries
that share an id are refused, every such conflict named at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.harness.text import clean
from grader.load import kind_of, submission_id_for
from grader.load_limits import SKIPPED_DIRS


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
