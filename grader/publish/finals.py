"""The finals, as published: finals.json (schemas/finals.schema.json) from the rounds' figures.

    build_finals(plan, rounds, ...) -> Finals     the ranked finalists, the rounds, every pair
    load_finals(folder)             -> Finals | None   a folder's finals.json, if any

The runs themselves are ``grader.batch.finals``; the ranks' arithmetic is
``grader.publish.finals_ranks``; the pages ``grader.publish.finals_render``. The board
(``grader.publish.boards``) marks the finalists and takes their order from here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from grader import __version__
from grader.grading.clock import utc_now
from grader.grading.result import Strict
from grader.publish.finals_ranks import CI_LEVEL, comparisons_of, rank_finalists

FINALS_SCHEMA_VERSION = "1.0"
FINALS_FILE = "finals.json"
FINALS_PAGE = "finals.html"


def finals_anchor(student_id: str) -> str:
    """The fragment of a finalist's row on the finals page (as the board's row anchors)."""
    return "row-" + re.sub(r"[^A-Za-z0-9_-]", "-", student_id)

METHOD = (
    "Every round times each finalist once against the reference, in the same session on the same host, in an "
    "order shuffled from the recorded seed. Two finalists are compared by the ratio of their figures in each "
    "round, so whatever the machine did between rounds cancels: the geometric mean of those per-round ratios and "
    "its 95% t-interval over rounds. A finalist is significantly faster than another when the paired t-test over "
    "rounds says so after Holm's correction over every pair of finalists (with many pairs, a chance difference "
    "is not called one). Rank is 1 + the finalists significantly faster (made non-decreasing down the order, so "
    "two finalists share a rank when they cannot be told apart); the rank interval runs from 1 + those "
    "significantly faster to the number of finalists minus those significantly slower. A finalist is ranked "
    "only with a figure in every planned round; code that fails a check or is not timed in a round is out of "
    "the finals. The order is by the mean paired ratio against every other finalist; a finalist's own figure is "
    "the geometric mean of its round figures, whose interval still carries the drift between rounds.")


class FinalsEntry(Strict):
    rank: int | None = Field(ge=1, description=(
        "1 + the finalists significantly faster, non-decreasing down the list; None: unranked (see reason), "
        "listed after the ranked finalists."))
    rank_best: int | None = Field(ge=1, description="1 + the finalists significantly faster.")
    rank_worst: int | None = Field(ge=1, description=(
        "The number of ranked finalists minus those significantly slower (>= rank)."))
    reason: str | None = Field(None, description=(
        "Why the finalist is unranked: no figure in every planned round, or its code failed in a round."))
    student_id: str
    figure: float | None = Field(description=(
        "Geometric mean over rounds of the finalist's speed against the reference (the board's calls' geometric "
        "mean in each round); None when no round timed it."))
    ci_low: float | None = Field(description="95% t-interval of that figure over rounds (None under two rounds).")
    ci_high: float | None = None
    ci_level: float = CI_LEVEL
    rounds_timed: int = Field(ge=0, description="Rounds that gave this finalist a figure.")
    faster_than: list[str] = Field(description="Finalists it is significantly faster than (paired, per round).")
    slower_than: list[str] = Field(description="Finalists significantly faster than it.")
    board_rank: int | None = Field(description="Its rank on the board the finalists were chosen from.")
    sha256: str = Field(description="The submission timed (a changed submission is not this finalist any more).")


class FinalsGrading(Strict):
    """One finalist's grading in a round: where and when, so overlaps can be checked."""

    student_id: str
    host: str
    started: float = Field(description="Unix time the grading started on its host.")
    finished: float
    figure: float | None = Field(description="The board's calls' geometric mean of this grading's speedups.")
    speedups: dict[str, float | None] = Field(description="Each call's speedup against the reference.")
    contended: bool = Field(False, description="Some kept worker pair was timed while other cores were busy.")
    reason: str | None = Field(None, description="Why there is no figure, when there is none.")
    out: bool = Field(False, description=(
        "The student's code failed a check or was not timed in this round: it is out of the finals (a student "
        "must not drop the rounds its code ran slow in)."))
    retried: bool = Field(False, description="The grader failed the first try (not the student's code): run again once.")


class FinalsRound(Strict):
    round: int = Field(ge=1)
    order: list[str] = Field(description="The finalists in the order they were timed (shuffled from the seed).")
    host: str
    gradings: list[FinalsGrading]
    seed: int | None = Field(None, description="The plan's seed (a round of another plan is run again).")
    config_hash: str = Field("", description="The configuration the finalists were graded with (GradingConfig.config_hash).")
    sha256: dict[str, str] = Field(default_factory=dict, description="Each finalist's submission timed.")


class PairComparison(Strict):
    a: str
    b: str
    ratio: float = Field(description="Geometric mean over common rounds of a's figure / b's figure.")
    ci_low: float | None = None
    ci_high: float | None = None
    rounds: int = Field(ge=1)
    verdict: Literal["faster", "slower", "not different"] = Field(description=(
        "a against b: the paired t-test, Holm-corrected over every pair of ranked finalists."))
    p_value: float | None = Field(None, description="The paired t-test's two-sided p-value (before Holm's correction).")


class Finals(Strict):
    schema_version: Literal["1.0"] = FINALS_SCHEMA_VERSION
    assignment: str
    title: str | None = None
    calls: list[str] = Field(description="The timed calls whose geometric mean is a round's figure (the board's).")
    generated_at: str
    grader_version: str
    seed: int = Field(description="The seed each round's order is shuffled from (round r: the seed and r).")
    rounds_planned: int = Field(ge=1)
    top: int = Field(ge=1, description="The K of 'the top K correct students' (plus those overlapping the K-th).")
    method: str = METHOD
    entries: list[FinalsEntry] = Field(description="The finalists in rank order, the unranked ones last.")
    rounds: list[FinalsRound] = Field(description="The completed rounds, with each grading's per-round figure.")
    comparisons: list[PairComparison] = Field(description="Every pair of ranked finalists (a before b by id).")
    board: str = "leaderboard.html"


def complete(finals: Finals) -> bool:
    """Every finalist ranked: each has a figure in every planned round (the board applies
    the finals' order only then)."""
    return all(entry.rank is not None for entry in finals.entries)


def round_figures(finalists: list[str], rounds: list[FinalsRound]) -> dict[str, list[float | None]]:
    """Each finalist's figure in each completed round (None where it has none)."""
    figures = {student: [] for student in finalists}
    for finals_round in rounds:
        by_student = {g.student_id: g.figure for g in finals_round.gradings}
        for student in finalists:
            figures[student].append(by_student.get(student))
    return figures


def build_finals(*, assignment: str, calls: list[str], seed: int, rounds_planned: int, top: int,
                 finalists: dict[str, dict], rounds: list[FinalsRound], title: str | None = None,
                 generated_at: str | None = None) -> Finals:
    """``finalists``: id -> {"sha256", "board_rank"} as chosen from the board."""
    figures = round_figures(sorted(finalists), rounds)
    excluded = {}
    for finals_round in sorted(rounds, key=lambda r: r.round):
        for grading in finals_round.gradings:
            if grading.out and grading.student_id not in excluded:
                excluded[grading.student_id] = grading.reason or f"failed in finals round {finals_round.round}"
    entries = []
    for placing in rank_finalists(figures, rounds_planned, excluded):
        figure = placing.figure
        entries.append(FinalsEntry(
            rank=placing.rank, rank_best=placing.rank_best, rank_worst=placing.rank_worst,
            student_id=placing.student_id, figure=figure.value if figure else None,
            ci_low=figure.low if figure else None, ci_high=figure.high if figure else None,
            rounds_timed=figure.count if figure else 0, faster_than=list(placing.faster_than),
            slower_than=list(placing.slower_than), board_rank=finalists[placing.student_id].get("board_rank"),
            sha256=finalists[placing.student_id]["sha256"], reason=placing.reason))
    ranked = {e.student_id: figures[e.student_id] for e in entries if e.rank is not None}  # the ranks' family
    comparisons = [PairComparison(a=c.a, b=c.b, ratio=c.ratio.value, ci_low=c.ratio.low, ci_high=c.ratio.high,
                                  rounds=c.ratio.count, verdict=c.verdict, p_value=c.p) for c in comparisons_of(ranked)]
    return Finals(assignment=assignment, title=title, calls=calls, generated_at=generated_at or utc_now(),
                  grader_version=__version__, seed=seed, rounds_planned=rounds_planned, top=top, entries=entries,
                  rounds=rounds, comparisons=comparisons)


def load_finals(*folders: Path) -> Finals | None:
    """The first of ``folders`` holding a readable finals.json; None when none does.
    An unreadable one raises (a board must not silently drop finals someone ran)."""
    for folder in folders:
        path = Path(folder) / FINALS_FILE
        if path.is_file():
            return Finals.model_validate_json(path.read_bytes())
    return None


def finals_document(finals: Finals) -> str:
    return json.dumps(finals.model_dump(mode="json"), indent=2) + "\n"
