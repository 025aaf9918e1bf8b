"""What a batch did, student by student: OUT/summary.json, and what an interruption carries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from grader import __version__
from grader.intake.class_folder import Student
from grader.grading.grade import SCRATCH_LEFT
from grader.grading.result import GradeResult

RESULTS_DIR = "results"  # OUT/results/<id>.json: one stored result per student


StudentStatus = Literal["graded", "not_gradable", "skipped", "interrupted", "not_started"]


class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted; ``summary`` (also written to OUT/summary.json) says what is done."""

    def __init__(self, summary: "BatchSummary"):
        super().__init__("batch interrupted")
        self.summary = summary


@dataclass
class StudentOutcome:
    id: str
    source_name: str
    status: StudentStatus
    score: float | None = None
    max_score: float | None = None
    gradable: bool | None = None
    wall_time_s: float | None = None
    result: str | None = None
    """Path of the stored result, relative to the output folder."""
    message: str | None = None
    scratch_left: list[str] = field(default_factory=list)
    """What the grader could not remove of this grading's scratch (a count, then paths and why)."""


@dataclass
class BatchSummary:
    out_dir: str
    submissions_dir: str
    sandbox: str
    jobs: int
    cores: list[int]
    config_hash: str
    started_at: str
    grader_version: str = __version__
    finished_at: str | None = None
    wall_time_s: float = 0.0
    interrupted: bool = False
    students: list[StudentOutcome] = field(default_factory=list)
    ignored_entries: list[dict[str, str]] = field(default_factory=list)
    orphan_results: list[str] = field(default_factory=list)
    """Ids with a stored result but no submission in the folder any more (still on the board)."""
    notes: list[str] = field(default_factory=list)
    """Things the operator should know; one says which gradings left files behind (scratch_left_note)."""
    leaderboard_counts: dict[str, int] | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in ("graded", "not_gradable", "skipped", "interrupted", "not_started")}
        for student in self.students:
            counts[student.status] += 1
        return {"students": len(self.students), **counts}

    def outcome(self, student_id: str) -> StudentOutcome:
        return next(student for student in self.students if student.id == student_id)

    def to_json(self) -> dict:
        document = asdict(self)
        document["counts"] = self.counts
        return document


def outcome_of(student: Student, result: GradeResult, status: StudentStatus) -> StudentOutcome:
    return StudentOutcome(
        id=student.id, source_name=student.path.name, status=status, score=result.score,
        max_score=result.max_score, gradable=result.gradable, wall_time_s=result.wall_time_s,
        result=f"{RESULTS_DIR}/{student.id}.json",
        message=result.failure.message.splitlines()[0] if result.failure else None,
        scratch_left=[] if status == "skipped" else scratch_left_of(result),
    )


def scratch_left_of(result: GradeResult) -> list[str]:
    """What this grading left of its scratch: the environment says it for a graded run, the
    failure message's SCRATCH_LEFT line for a run that was not gradable."""
    if result.environment is not None and result.environment.scratch_left:
        return list(result.environment.scratch_left)
    if result.failure is not None and not result.gradable:
        for line in result.failure.message.splitlines():
            _, found, rest = line.partition(SCRATCH_LEFT)
            if found:
                return rest.split("; ")
    return []


def scratch_left_note(students: list[StudentOutcome]) -> str | None:
    """One line for the summary's notes and the log when any grading left files behind."""
    left = [student for student in students if student.scratch_left]
    if not left:
        return None
    named = ", ".join(f"{student.id} ({student.scratch_left[0]})" for student in left[:5])
    more = f" and {len(left) - 5} more" if len(left) > 5 else ""
    return (f"{len(left)} grading{'s' * (len(left) != 1)} left files the grader could not remove (on the grading "
            f"host; paths in each student's scratch_left): {named}{more}")
