"""A class's published files, from its stored results alone (so they can be rebuilt any time).

    class_outputs(results, options) -> {relative path: text}

    leaderboard.json / .md / .html   the boards (grader.publish.boards), validated against the schema
    scores.csv                       student_id,name,score,max_score,submitted_at (real ids, always)
    canvas_gradebook.csv             with a Canvas roster export: Canvas's import format
    staff/pseudonyms.csv             with anonymize: who is who (STAFF_FILES: never publish it)

The caller writes them (``grader.atomic_write.write_atomic``, with ``file_mode`` for the staff files).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import jsonschema

from grader.publish.boards import BoardOptions, build_boards
from grader.publish.finals import FINALS_PAGE, Finals
from grader.intake.roster import Roster
from grader.publish.gradebook import canvas_gradebook_csv, scores_csv
from grader.publish.leaderboard import pseudonym
from grader.publish.leaderboard_render import leaderboard_html, leaderboard_markdown
from grader.grading.result import GradeResult
from grader.publish.schemas import DEFAULT_DIRECTORY as SCHEMA_DIRECTORY

PSEUDONYM_MAP = "staff/pseudonyms.csv"
STAFF_FILES = (PSEUDONYM_MAP,)
STAFF_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644
# The note that tells a student which row is theirs on an anonymized board.
PSEUDONYM_NOTE_PREFIX = "On the anonymized leaderboard you are "


@dataclass(frozen=True)
class OutputOptions:
    roster: Roster = field(default_factory=Roster)
    anonymize: bool = False
    salt: str = ""
    submitted_at: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    hide_unranked_scores: bool = False
    gradebook_column: str | None = None  # the Canvas column; default: the title or the assignment id
    rank_by: list[str] | None = None  # the calls the class board ranks by (config course.rank_by; boards.class_board_calls)
    generated_at: str | None = None
    finals: Finals | None = None  # the class's finals (finals.json beside the board), if run
    finals_page: str | None = FINALS_PAGE  # None: no finals.html beside the board to link


def class_outputs(results: list[GradeResult], options: OutputOptions = OutputOptions()) -> dict[str, str]:
    ids = [result.submission.id for result in results]
    board = build_boards(results, BoardOptions(
        roster=options.roster.names(ids), anonymize=options.anonymize, salt=options.salt,
        submitted_at=options.submitted_at, title=options.title, hide_unranked_scores=options.hide_unranked_scores,
        generated_at=options.generated_at, calls=options.rank_by, finals=options.finals,
        finals_page=options.finals_page,
    ))
    document = board.model_dump(mode="json")
    jsonschema.validate(document, leaderboard_schema())
    outputs = {
        "leaderboard.json": json.dumps(document, indent=2) + "\n",
        "leaderboard.md": leaderboard_markdown(board),
        "leaderboard.html": leaderboard_html(board),
        "scores.csv": scores_csv(results, options.roster, options.submitted_at),
    }
    if options.roster.kind == "canvas":
        column = options.gradebook_column or options.title or results[0].assignment
        outputs["canvas_gradebook.csv"] = canvas_gradebook_csv(results, options.roster, column)
    if options.anonymize:
        outputs[PSEUDONYM_MAP] = pseudonym_map_csv(ids, options.roster, options.salt)
    return outputs


def file_mode(relative_path: str) -> int:
    return STAFF_FILE_MODE if relative_path in STAFF_FILES else PUBLIC_FILE_MODE


def pseudonym_map_csv(ids: list[str], roster: Roster, salt: str) -> str:
    """Staff only: student_id,name,pseudonym,row (the page fragment that highlights the row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", "name", "pseudonym", "row"])
    for student_id in sorted(ids):
        on_roster = roster.find(student_id)
        name = pseudonym(student_id, salt)
        writer.writerow([student_id, on_roster.name if on_roster else "", name, f"leaderboard.html#row-{name}"])
    return buffer.getvalue()


def with_pseudonym_note(result: GradeResult, salt: str | None) -> GradeResult:
    """The result with exactly one note naming the student's pseudonym (none when ``salt``
    is None: the board is not anonymized), so a student can find their own row."""
    notes = [note for note in result.notes if not note.startswith(PSEUDONYM_NOTE_PREFIX)]
    if salt is not None:
        name = pseudonym(result.submission.id, salt)
        notes.append(f"{PSEUDONYM_NOTE_PREFIX}{name} (your row: leaderboard.html#row-{name}).")
    return result if notes == result.notes else result.model_copy(update={"notes": notes})


_LEADERBOARD_SCHEMA: dict | None = None


def leaderboard_schema() -> dict:
    """The published schema file (the model's own schema when running from a wheel without it)."""
    global _LEADERBOARD_SCHEMA
    if _LEADERBOARD_SCHEMA is None:
        path = SCHEMA_DIRECTORY / "leaderboard.schema.json"
        if path.is_file():
            _LEADERBOARD_SCHEMA = json.loads(path.read_text(encoding="utf-8"))
        else:
            from grader.publish.leaderboard import Leaderboard

            _LEADERBOARD_SCHEMA = Leaderboard.model_json_schema()
    return _LEADERBOARD_SCHEMA

