"""Rosters in: who the students are, and when they submitted.

    load_roster(path)                    -> Roster   a plain CSV (id,name[,submitted_at]) or a Canvas export
    roster_warnings(roster, ids)         -> [str]    submissions off the roster, roster ids with no submission
    submission_times(students, roster)   -> {id: ISO time}  the roster's submitted_at, else the file's time

A Canvas roster is the Grades page's "Export" CSV: columns Student, ID, SIS User ID,
SIS Login ID, Section, then assignments, and a "Points Possible" row. A submission
matches a Canvas student by SIS Login ID, SIS User ID or Canvas ID, and a file named
the way Canvas's "Download Submissions" names it (``smithjo_12345_67890_layers.py``)
by the Canvas ID inside its name. The gradebook files out are grader.publish.gradebook's.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.errors import UsageError
from grader.intake.load import submission_id_for

CANVAS_IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Canvas's "Download Submissions" file names: <sortable name>[_LATE]_<canvas user id>_<submission id>[_<file>].
_CANVAS_DOWNLOAD_NAME = re.compile(r"^[a-z0-9-]+?_(?:late_)?(\d+)_\d+(?:_|$)")


@dataclass(frozen=True)
class RosterStudent:
    id: str  # as submission ids are written (grader.intake.load.submission_id_for)
    name: str
    submitted_at: str | None = None
    canvas: dict[str, str] | None = None  # the Canvas identity columns, as exported
    aliases: tuple[str, ...] = ()  # other ids that name this student (Canvas ID, SIS User ID)


@dataclass
class Roster:
    kind: str = "none"  # "none", "plain" or "canvas"
    students: list[RosterStudent] = field(default_factory=list)
    path: str | None = None

    def __post_init__(self) -> None:
        self._by_key: dict[str, RosterStudent] = {}
        for student in self.students:
            for key in (student.id, *student.aliases):
                self._by_key.setdefault(key, student)

    def find(self, submission_id: str) -> RosterStudent | None:
        """The roster student a submission id names, by id, alias or Canvas download name."""
        student = self._by_key.get(submission_id)
        if student is None:
            match = _CANVAS_DOWNLOAD_NAME.match(submission_id)
            if match and self.kind == "canvas":
                student = self._by_key.get(match[1])
        return student

    def names(self, submission_ids) -> dict[str, str]:
        """Display names by submission id, for the ids on the roster."""
        return {i: s.name for i in submission_ids if (s := self.find(i)) is not None}

    def __bool__(self) -> bool:
        return self.kind != "none"


def load_roster(path: Path | str | None) -> Roster:
    if path is None:
        return Roster()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a BOM
    except OSError as exc:
        raise UsageError(f"cannot read roster {path}: {exc.strerror}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if {"student", "id", "sis user id"} <= set(columns):
        return _canvas_roster(reader, columns, str(path))
    if "id" not in columns or "name" not in columns:
        raise UsageError(f"roster {path} needs the columns id,name (or be a Canvas gradebook export with "
                         f"Student, ID, SIS User ID); it has {', '.join(reader.fieldnames or []) or 'none'}")
    students: list[RosterStudent] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        raw_id = (row.get(columns["id"]) or "").strip()
        if not raw_id:
            continue
        student_id = submission_id_for(raw_id)
        if student_id in seen:
            raise UsageError(f"roster {path} line {line}: id {raw_id!r} is listed twice")
        seen.add(student_id)
        submitted = (row.get(columns["submitted_at"]) or "").strip() if "submitted_at" in columns else ""
        students.append(RosterStudent(
            id=student_id, name=(row.get(columns["name"]) or "").strip() or student_id,
            submitted_at=_iso_time(submitted, f"roster {path} line {line}") if submitted else None,
        ))
    return Roster("plain", students, str(path))


def _canvas_roster(reader: csv.DictReader, columns: dict[str, str], path: str) -> Roster:
    students: list[RosterStudent] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        identity = {name: (row.get(columns.get(name.lower(), "")) or "").strip() for name in CANVAS_IDENTITY_COLUMNS}
        if identity["Student"] in ("Points Possible", "Student, Test", "Test Student") or not (
                identity["ID"] or identity["SIS User ID"] or identity["SIS Login ID"]):
            continue  # Canvas's points row and its test student are not students
        keys = [submission_id_for(identity[name]) for name in ("SIS Login ID", "SIS User ID", "ID") if identity[name]]
        if keys[0] in seen:
            raise UsageError(f"roster {path} line {line}: {keys[0]!r} is listed twice")
        seen.add(keys[0])
        students.append(RosterStudent(id=keys[0], name=identity["Student"] or keys[0], canvas=identity,
                                      aliases=tuple(dict.fromkeys(keys[1:]))))
    return Roster("canvas", students, path)


def _iso_time(text: str, where: str) -> str:
    """A submitted_at cell as ISO 8601 (UTC when it says no zone)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{where}: submitted_at {text!r} is not an ISO 8601 time (2025-03-01T23:59:00Z)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def roster_warnings(roster: Roster, submission_ids: list[str]) -> list[str]:
    """What a TA must look at before importing: who is graded but unknown, who is missing."""
    if not roster:
        return []
    warnings = []
    unknown = [i for i in submission_ids if roster.find(i) is None]
    if unknown:
        warnings.append(f"{len(unknown)} submission(s) not on the roster {roster.path} (no name, not in the "
                        f"gradebook import): {', '.join(unknown)}")
    matched = {roster.find(i).id for i in submission_ids if roster.find(i) is not None}
    missing = [s.id for s in roster.students if s.id not in matched]
    if missing:
        warnings.append(f"{len(missing)} roster id(s) with no submission: {', '.join(missing)}")
    return warnings


def submission_times(paths: dict[str, Path], roster: Roster) -> dict[str, str]:
    """When each student submitted: the roster's submitted_at, else the newest file time of
    the submission (a download keeps the LMS's times; a copy may not, so a roster column wins)."""
    times = {}
    for student_id, path in paths.items():
        student = roster.find(student_id)
        if student is not None and student.submitted_at:
            times[student_id] = student.submitted_at
        else:
            modified = _newest_mtime(Path(path))
            if modified is not None:
                times[student_id] = datetime.fromtimestamp(modified, timezone.utc).isoformat(timespec="seconds")
    return times


def _newest_mtime(path: Path) -> float | None:
    try:
        if not path.is_dir():
            return path.stat().st_mtime
        newest = None
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if not name.startswith("."):
                    modified = os.stat(os.path.join(folder, name), follow_symlinks=False).st_mtime
                    newest = modified if newest is None else max(newest, modified)
        return newest
    except OSError:
        return None
