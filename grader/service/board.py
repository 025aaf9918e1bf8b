"""The leaderboard and the exports, from each student's counted result.

One result per student counts: their best (highest score, then the latest) or their
latest, as configured. The outputs are the batch's own (``grader.publish.class_outputs``: the
leaderboard JSON of the published schema, its page, scores.csv) and Gradescope's
results.json (``grader.publish.gradescope``); they are rebuilt only when a result changed.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from datetime import datetime, timezone
from typing import Literal

from grader.publish.class_outputs import OutputOptions, class_outputs
from grader.intake.roster import Roster
from grader.publish.gradescope import to_gradescope
from grader.grading.config import Course
from grader.grading.result import GradeResult
from grader.service import db

Counting = Literal["best", "latest"]


def counted(rows, counting: Counting) -> list[tuple]:
    """Each student's counted (submission row, result); ``rows`` are (submission row, result JSON), oldest first."""
    chosen: dict[str, tuple] = {}
    for row in rows:
        result = GradeResult.model_validate_json(row.result_json)
        current = chosen.get(row.student_id)
        if current is None or counting == "latest" or _better(result, current[1]):
            chosen[row.student_id] = (row, result)
    return list(chosen.values())


def _better(result: GradeResult, than: GradeResult) -> bool:
    """A gradable result beats a grader failure; then a higher score; a tie goes to the newer."""
    return (result.gradable, result.score) >= (than.gradable, than.score)


class Boards:
    """The class outputs, cached by the results' version."""

    def __init__(self, engine, roster: Roster, counting: Counting, course: Course, assignment: str):
        self.engine = engine
        self.assignment = assignment
        self.roster = roster
        self.counting = counting
        self.title = course.title
        self.rank_by = course.rank_by  # the class board's rule (config course.rank_by)
        self.lock = threading.Lock()
        self.cached: tuple | None = None

    def outputs(self) -> tuple[dict[str, str], list[GradeResult]]:
        version = db.board_version(self.engine)
        with self.lock:
            if self.cached is None or self.cached[0] != version:
                chosen = counted(db.results_of(self.engine), self.counting)
                results = [result for _, result in chosen]
                times = {result.submission.id: _iso(row.created_at) for row, result in chosen}  # when submitted
                generated = _iso(time.time())
                options = OutputOptions(roster=self.roster, submitted_at=times, title=self.title,
                                        generated_at=generated, rank_by=self.rank_by)
                outputs = class_outputs(results, options) if results else _empty(options, self.assignment)
                self.cached = (version, outputs, results)
            return self.cached[1], self.cached[2]

    def leaderboard_json(self) -> dict:
        return json.loads(self.outputs()[0]["leaderboard.json"])

    def gradescope_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for result in self.outputs()[1]:
                if result.gradable:  # a grader failure has no Gradescope form (it would read as a zero)
                    archive.writestr(f"{result.submission.id}/results.json",
                                     json.dumps(to_gradescope(result), indent=2) + "\n")
        return buffer.getvalue()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _empty(options: OutputOptions, assignment: str) -> dict[str, str]:
    """The outputs of a class with no result yet (the board builder needs one result)."""
    from grader import __version__
    from grader.publish.leaderboard import Leaderboard, LeaderboardCounts
    from grader.publish.leaderboard_render import leaderboard_html

    from grader.harness import assignments

    calls = [call.name for call in assignments.get(assignment).CALLS] if assignment in assignments.PACKS else []
    board = Leaderboard(assignment=assignment, calls=calls, generated_at=options.generated_at,
                        grader_version=__version__, entries=[], title=options.title,
                        counts=LeaderboardCounts(**{name: 0 for name in LeaderboardCounts.model_fields}))
    return {"leaderboard.json": json.dumps(board.model_dump(mode="json"), indent=2) + "\n",
            "leaderboard.html": leaderboard_html(board),
            "scores.csv": "student_id,name,score,max_score,submitted_at\n"}
