"""The leaderboard: many grading results in, one ranked board out.

    build_leaderboard(results)  -> Leaderboard   the published JSON (schemas/leaderboard.schema.json)

The published boards (reasons, per-function boards, the public form) are built on this in
``grader.publish.boards``; renderings for people in ``leaderboard_render``; gradebook CSVs in ``grader.publish.gradebook``.

Who is ranked and how ties are broken is written down once, on ``build_leaderboard``.
Nothing here knows about any one assignment: it reads only the generic parts of a result
(checks and their groups, the timing rows by their pack's call names, the score).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import Field

from grader import __version__
from grader.errors import UsageError
from grader.grading.clock import utc_now
from grader.grading.result import Check, CheckStatus, FunctionTiming, GradeResult, Strict

# 2.0: an entry's speeds are a mapping keyed by the pack's call names (``speeds``) and the
# board lists those calls (``calls``); 1.0 had fixed ``forward`` and ``backward`` fields.
LEADERBOARD_SCHEMA_VERSION = "2.0"

EntryStatus = Literal["ranked", "not_timed", "failed_correctness", "not_gradable"]

# Checks in a group named "speed..." are about speed, not correctness: failing them
# costs points but does not take a student off the board.
SPEED_GROUP_PREFIX = "speed"

# Scores are sums of float points (0.1 + 0.2 != 0.3); two scores that agree to this
# many decimals are the same score for ranking.
SCORE_DECIMALS = 6

PSEUDONYM_PREFIX = "student-"
PSEUDONYM_HEX_DIGITS = 8


# --------------------------------------------------------------------------- models


class SpeedFigure(Strict):
    """One function's speed against the fast reference; all None when it was not measured."""

    speedup_vs_reference: float | None = Field(
        None, description="Median over trials of reference time / student time (>1: faster than the reference)."
    )
    ci_low: float | None = Field(None, description="Lower end of the confidence interval of that median.")
    ci_high: float | None = Field(None, description="Upper end of the confidence interval of that median.")
    ci_level: float | None = Field(None, description=(
        "Nominal coverage of [ci_low, ci_high], as stored with the student's timing; the board words it."))
    gflops: float | None = Field(None, description="The student's GFLOP/s (the assignment's operation count / time).")
    percent_of_peak: float | None = Field(None, description=(
        "GFLOP/s as a percentage of a same-shape matrix product's on the grading core."))


class LeaderboardEntry(Strict):
    rank: int | None = Field(ge=1, description=(
        "1 + students with a higher score, or the same score and a speed more likely than not (over 55%) ahead "
        "of this one's (made non-decreasing down the board); None when not ranked."))
    student: str = Field(description="Display name, or a pseudonym on an anonymized board.")
    student_id: str | None = Field(description="Submission id; None on an anonymized board.")
    score: float | None = Field(description="None when the board leaves unranked scores off (a public board).")
    max_score: float
    speeds: dict[str, SpeedFigure] = Field(description=(
        "The speed of each timed call, keyed by the pack's call name (the board's calls, in its order)."))
    submitted_at: str | None = Field(None, description="When the student submitted, as given by the caller.")
    graded_at: str = Field(description="UTC time of the grading, ISO 8601.")
    grader_version: str = Field(description="Version of the grader that produced this student's result.")
    status: EntryStatus = Field(
        description=(
            "ranked: correct and timed. not_timed: correct, but a speed was not measured. "
            "failed_correctness: a correctness check failed. not_gradable: the grader failed; the score is not a grade."
        )
    )
    reason: str | None = Field(None, description="Why the student is not ranked: the first thing that failed.")
    finals_rank: int | None = Field(None, ge=1, description=(
        "A finalist's rank in the finals (finals.json), whose order the board then takes; None otherwise."))


class LeaderboardCounts(Strict):
    ranked: int = Field(ge=0)
    not_timed: int = Field(ge=0)
    failed_correctness: int = Field(ge=0)
    not_gradable: int = Field(ge=0)


class Leaderboard(Strict):
    schema_version: Literal["2.0"] = LEADERBOARD_SCHEMA_VERSION
    assignment: str
    calls: list[str] = Field(description=(
        "The timed calls, by the pack's call names, in its order ('layer/call' when the results span several "
        "layers): a speed column, a plot row and a board each."))
    generated_at: str = Field(description="UTC time the board was built, ISO 8601.")
    grader_version: str = Field(description="Version of the grader that built the board.")
    entries: list[LeaderboardEntry] = Field(
        description="Ranked entries first (by rank), then not_timed, failed_correctness and not_gradable."
    )
    counts: LeaderboardCounts
    title: str | None = Field(None, description="The course's title for the board, from the configuration.")
    finals: str | None = Field(None, description=(
        "The finals page beside the board (finals.html) when finals of this class were run; the finalists' order "
        "and ranks on this board are then the finals'."))
    finals_note: str | None = Field(None, description=(
        "Why the board kept its own order although finals were found (incomplete finals, other calls, another "
        "assignment, finalists that are not the board's top); None when the finals' order was applied or none."))
    function_boards: list["FunctionBoard"] = Field(
        default_factory=list,
        description="One board per function: everyone whose function is correct and timed, ranked by its speed alone.",
    )


class FunctionBoardEntry(Strict):
    rank: int = Field(ge=1, description="Competition rank by this function's speed.")
    student: str = Field(description="Display name, or a pseudonym on an anonymized board.")
    student_id: str | None = Field(description="Submission id; None on an anonymized board.")
    speed: SpeedFigure


class FunctionBoard(Strict):
    call: str = Field(description="The pack's call name this board ranks by.")
    entries: list[FunctionBoardEntry]


Leaderboard.model_rebuild()


# ------------------------------------------------------------------------- building


@dataclass(frozen=True)
class _Standing:
    """A result with what ranking needs computed once: its status, speed and interval."""

    result: GradeResult
    status: EntryStatus
    speed: float | None = None  # geometric mean of the timed calls' speedups
    interval: tuple[float, float] | None = None  # combined confidence interval of `speed`
    rank_score: float | None = None  # the score ranking compares; None: the result's (a function board: 0)

    @property
    def student_id(self) -> str:
        return self.result.submission.id

    @property
    def score_key(self) -> float:
        return round(self.result.score if self.rank_score is None else self.rank_score, SCORE_DECIMALS)


Standing = _Standing  # what rank_standings takes (grader.publish.boards builds its own for the function boards)


def build_leaderboard(
    results: list[GradeResult],
    *,
    calls: list[str] | None = None,
    roster: dict[str, str] | None = None,
    anonymize: bool = False,
    anonymize_salt: str = "",
    submitted_at: dict[str, str] | None = None,
    generated_at: str | None = None,
) -> Leaderboard:
    """Rank the results of one assignment. (Over 60 lines: one pass from results to board,
    status, order and rank, whose rules are stated below and read top to bottom.)

    Status of each student, in the order the board lists them:

    - ``ranked``: gradable, every correctness check passed (every check whose group
      does not start with "speed"), and every timed call (the board's ``calls``)
      measured with a speedup and a confidence interval.
    - ``not_timed``: gradable and correct, but a timing is missing (for example the
      timing ran out of budget). Listed, unranked: there is no speed to compare.
    - ``failed_correctness``: gradable, and a correctness check failed.
    - ``not_gradable``: the grader failed; the score is not a grade, so it is never
      compared with anyone's.

    Ranked students are sorted by score (descending; scores equal to SCORE_DECIMALS
    decimals are equal), then by speed: the geometric mean of the timed calls'
    speedups, so a 2x gain in any call counts the same.

    Ranks (no transitive tie chains): a student's raw rank is 1 + the number of
    students clearly ahead: a higher score, or the same score and a speed they can be
    told apart by. Two speeds cannot be told apart when, reading each interval as a 95%
    normal interval on a log scale, the chance that the faster-looking one is really
    faster is under 55% (their log speeds differ by less than Z_TIE = 0.1257 standard
    errors of the difference). The speed is the geometric mean of the calls'
    speedups and its interval [geomean of the ci_lows, geomean of the ci_highs].
    Students with disjoint intervals are always told apart, and the one above has strictly fewer students ahead, so they never share a
    rank; ties never chain, since each student's rank counts the students ahead of it
    directly. The published rank is the running maximum of raw ranks down the board
    (sorted by score, then speed), so a higher figure never gets a worse rank even
    when intervals differ in width; that keeps disjoint pairs apart, as anyone told
    apart from a student ahead of you is told apart from you.

    Why 55% and not "intervals overlap": with intervals of +-3% and a class spread
    over three decades, a student's interval overlaps two or three neighbours on
    each side; sharing a rank on overlap leaves about half the class tied, although
    most of those neighbours are more likely than not in the order shown.

    The other groups are sorted by score (descending) then display name; not
    gradable ones by display name. The student id breaks any remaining tie, so
    the order never depends on the order of ``results``.

    ``calls``: the timed calls, in order; by default every call the results have a
    timing row for, in the order the first result lists them.

    ``roster`` maps submission ids to display names (missing ids show the id).
    ``anonymize`` replaces names by a pseudonym, "student-" + the first 8 hex digits
    of sha256(salt + id), and drops the ids; the salt must be a secret kept across
    runs (it keeps pseudonyms stable), because unsalted hashes of known ids are
    reversible by anyone who has the class list.
    """
    validate_results(results)
    if anonymize and not anonymize_salt:
        raise UsageError(
            "anonymize=True needs a secret anonymize_salt: without one, anyone with the class list "
            "can hash the ids and recover who is who"
        )
    names = _display_names(results, roster or {}, anonymize, anonymize_salt)
    submitted_at = submitted_at or {}

    calls = list(calls) if calls is not None else timed_calls(results)
    standings = [_standing(result, calls) for result in results]
    ranked, ranks = rank_standings(standings)
    unranked = _ordered_unranked(standings, names)
    statuses = Counter(standing.status for standing in standings)
    entries = [
        _entry(standing, rank, names[standing.student_id], None if anonymize else standing.student_id, submitted_at,
               calls)
        for standing, rank in zip(ranked + unranked, ranks + [None] * len(unranked))
    ]
    return Leaderboard(
        assignment=results[0].assignment,
        calls=calls,
        generated_at=generated_at or utc_now(),
        grader_version=__version__,
        entries=entries,
        counts=LeaderboardCounts(**{status: statuses[status] for status in get_args(EntryStatus)}),
    )


def timed_calls(results: list[GradeResult]) -> list[str]:
    """Every call the results have a timing row for, in the order the results list them.
    A board's results share one assignment, so a call name is unique on it: a pack's own
    ("forward"), or a bundle's, which carries its layer ("maxpool/forward")."""
    calls: list[str] = []
    for result in results:
        calls += [timing.call for timing in result.timing if timing.call not in calls]
    return calls


def of_call(row: Check | FunctionTiming, call: str) -> bool:
    """Whether ``row`` belongs to the board call ``call``."""
    return row.call == call


def pseudonym(student_id: str, salt: str) -> str:
    """A stable stand-in for a student: the same id and salt always give the same name."""
    digest = hashlib.sha256((salt + student_id).encode("utf-8")).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def validate_results(results: list[GradeResult]) -> None:
    if not results:
        raise UsageError("no results: a leaderboard needs at least one graded submission")
    assignment = results[0].assignment
    seen: set[str] = set()
    for result in results:
        if result.assignment != assignment:
            raise UsageError(
                f"results of different assignments cannot share a board: "
                f"{result.submission.id!r} is for {result.assignment!r}, "
                f"{results[0].submission.id!r} is for {assignment!r}"
            )
        if result.submission.id in seen:
            raise UsageError(f"two results for submission {result.submission.id!r}: keep one per student")
        seen.add(result.submission.id)


def _display_names(
    results: list[GradeResult], roster: dict[str, str], anonymize: bool, salt: str
) -> dict[str, str]:
    ids = [result.submission.id for result in results]
    if not anonymize:
        return {student_id: roster.get(student_id, student_id) for student_id in ids}
    names = {student_id: pseudonym(student_id, salt) for student_id in ids}
    # 32 bits of hash: a collision is rare but would merge two students on the board.
    if len(set(names.values())) != len(names):
        raise UsageError("two students got the same pseudonym with this anonymize_salt; choose another salt")
    return names


def _standing(result: GradeResult, calls: list[str]) -> _Standing:
    if not result.gradable:
        return _Standing(result, "not_gradable")
    if not _passed_correctness(result):
        return _Standing(result, "failed_correctness")
    timings = [_timing(result, call) for call in calls]
    if not calls or not all(_is_complete(timing) for timing in timings):
        return _Standing(result, "not_timed")
    return _Standing(
        result,
        "ranked",
        speed=_geomean([timing.speedup_vs_reference for timing in timings]),
        interval=(_geomean([timing.ci_low for timing in timings]), _geomean([timing.ci_high for timing in timings])),
    )


def _passed_correctness(result: GradeResult) -> bool:
    return all(
        check.status == CheckStatus.PASSED
        for check in result.checks
        if not check.group.startswith(SPEED_GROUP_PREFIX)
    )


def _timing(result: GradeResult, call: str) -> FunctionTiming | None:
    return next((timing for timing in result.timing if of_call(timing, call)), None)


def _is_complete(timing: FunctionTiming | None) -> bool:
    """Measured, with a speedup and an interval that a geometric mean can use (all > 0)."""
    if timing is None or not timing.measured:
        return False
    figures = (timing.speedup_vs_reference, timing.ci_low, timing.ci_high)
    return all(figure is not None and figure > 0 for figure in figures)


def _geomean(values: list[float]) -> float:
    """The geometric mean. Two values (a forward and its backward) keep the square root
    of their product, so those boards rank exactly as they did before packs named calls."""
    product = math.prod(values)
    return math.sqrt(product) if len(values) == 2 else product ** (1 / len(values))


def _ordered_unranked(standings: list[_Standing], names: dict[str, str]) -> list[_Standing]:
    """not_timed, then failed_correctness (each by score, name), then not_gradable (by name)."""

    def by_score(standing: _Standing) -> tuple:
        return (-standing.score_key, names[standing.student_id], standing.student_id)

    def by_name(standing: _Standing) -> tuple:
        return (names[standing.student_id], standing.student_id)

    ordered: list[_Standing] = []
    for status, key in (("not_timed", by_score), ("failed_correctness", by_score), ("not_gradable", by_name)):
        ordered += sorted((s for s in standings if s.status == status), key=key)
    return ordered


def rank_standings(standings: list[_Standing]) -> tuple[list[_Standing], list[int]]:
    """The ranking rule, in one place: the ranked standings in board order, and their ranks.
    The overall board and the per-function boards (``grader.publish.boards``) both rank through it."""
    ranked = sorted(
        (s for s in standings if s.status == "ranked"), key=lambda s: (-s.score_key, -s.speed, s.student_id)
    )
    return ranked, _competition_ranks(ranked)


# Two students "cannot be told apart" when, read as normal errors on a log scale, the
# chance that the faster-looking one is really faster is below 55%: their log figures
# differ by less than Z_TIE standard errors of the difference (Phi(0.1257) = 0.55).
Z_TIE = 0.1257
Z_INTERVAL = 1.96  # the published intervals are 95% intervals


def _log_standard_error(interval: tuple[float, float]) -> float:
    return (math.log(interval[1]) - math.log(interval[0])) / (2 * Z_INTERVAL)


def _clearly_ahead(other: _Standing, standing: _Standing) -> bool:
    """``other`` has a higher score, or the same score and a speed it is told apart by."""
    if other.score_key != standing.score_key:
        return other.score_key > standing.score_key
    difference = math.log(other.speed) - math.log(standing.speed)
    spread = math.hypot(_log_standard_error(other.interval), _log_standard_error(standing.interval))
    return difference > Z_TIE * spread


def _competition_ranks(ordered: list[_Standing]) -> list[int]:
    """Ranks for ``ordered`` (by score, then speed, descending); see build_leaderboard."""
    ranks, highest = [], 0
    for standing in ordered:
        raw = 1 + sum(1 for other in ordered if _clearly_ahead(other, standing))
        highest = max(highest, raw)  # down the board a rank never improves
        ranks.append(highest)
    return ranks


def _entry(
    standing: _Standing, rank: int | None, name: str, student_id: str | None, submitted_at: dict[str, str],
    calls: list[str],
) -> LeaderboardEntry:
    result = standing.result
    return LeaderboardEntry(
        rank=rank,
        student=name,
        student_id=student_id,
        score=result.score,
        max_score=result.max_score,
        speeds={call: speed_figure(_timing(result, call)) for call in calls},
        submitted_at=submitted_at.get(standing.student_id),
        graded_at=result.graded_at,
        grader_version=result.grader_version,
        status=standing.status,
    )


def speed_figure(timing: FunctionTiming | None) -> SpeedFigure:
    """A timing as the boards carry it: all None when it was not measured."""
    if timing is None or not timing.measured:
        return SpeedFigure()
    return SpeedFigure(speedup_vs_reference=timing.speedup_vs_reference, ci_low=timing.ci_low, ci_high=timing.ci_high,
                       ci_level=timing.ci_level, gflops=timing.student_gflops, percent_of_peak=timing.percent_of_peak)
