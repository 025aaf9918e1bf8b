"""Gradebook files out (the rosters in are grader.intake.roster's).

    scores_csv(results, roster, times)   -> str      student_id,name,score,max_score,submitted_at
    canvas_gradebook_csv(results, roster, column) -> str   Canvas's import format

Every cell a spreadsheet would run as a formula is prefixed with a quote.
"""

from __future__ import annotations

import csv
import io

from grader.errors import UsageError
from grader.intake.roster import CANVAS_IDENTITY_COLUMNS, Roster
from grader.grading.result import GradeResult

# Scores are sums of float points; the CSV shows them to this many decimals, no float noise.
CSV_DECIMALS = 6


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _csv_number(value: float) -> str:
    """Plain decimal, no float noise: 7.5 -> "7.5", 10.0 -> "10", 0.1 + 0.2 -> "0.3"."""
    return f"{round(value, CSV_DECIMALS):.{CSV_DECIMALS}f}".rstrip("0").rstrip(".")


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, lineterminator="\n")  # "\n": the file is also diffed and read in terminals


def scores_csv(results: list[GradeResult], roster: Roster | None = None,
               submitted_at: dict[str, str] | None = None) -> str:
    """The gradebook import: ``student_id,name,score,max_score,submitted_at``, one row per student, by id.

    Built from the results, not from a board, because an anonymized board has no ids.
    The name comes from the roster (empty when the id is not on it). A not-gradable
    result gets an empty score: the grader failed, and a gradebook must not read that
    as a zero.
    """
    roster = roster or Roster()
    submitted_at = submitted_at or {}
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(["student_id", "name", "score", "max_score", "submitted_at"])
    for result in sorted(results, key=lambda r: r.submission.id):
        student_id = result.submission.id
        on_roster = roster.find(student_id)
        writer.writerow([
            _spreadsheet_safe(student_id), _spreadsheet_safe(on_roster.name if on_roster else ""),
            _csv_number(result.score) if result.gradable else "", _csv_number(result.max_score),
            submitted_at.get(student_id, ""),
        ])
    return buffer.getvalue()


def canvas_gradebook_csv(results: list[GradeResult], roster: Roster, column: str) -> str:
    """Canvas's gradebook import: the roster's identity columns, then one assignment column.

    Every roster student gets a row, in the roster's order; an empty score (no
    submission, or a grader failure) leaves Canvas's grade unchanged. Submissions
    that are not on the roster cannot be imported: ``roster_warnings`` names them.
    """
    if roster.kind != "canvas":
        raise UsageError("a Canvas gradebook needs a Canvas roster export as --roster")
    by_student: dict[str, GradeResult] = {}
    for result in results:
        student = roster.find(result.submission.id)
        if student is not None:
            by_student[student.id] = result
    max_score = max((r.max_score for r in results), default=0.0)
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow([*CANVAS_IDENTITY_COLUMNS, column])
    writer.writerow(["Points Possible", "", "", "", "", _csv_number(max_score)])
    for student in roster.students:
        result = by_student.get(student.id)
        score = _csv_number(result.score) if result is not None and result.gradable else ""
        writer.writerow([_spreadsheet_safe(student.canvas.get(name, "")) for name in CANVAS_IDENTITY_COLUMNS]
                        + [score])
    return buffer.getvalue()
