"""Who is in the finals: the top K correct students of the board, plus everyone whose
interval overlaps the K-th's (they could be the K-th on a regrade).

    choose_finalists(results, top, rank_by) -> [Finalist] in board order
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grader.errors import UsageError
from grader.grading.result import GradeResult
from grader.publish.boards import class_board_calls
from grader.publish.leaderboard import LeaderboardEntry, build_leaderboard


@dataclass(frozen=True)
class Finalist:
    student_id: str
    board_rank: int
    sha256: str
    seed: int
    """The seed of the stored grading: the finals time the same inputs it timed."""
    speed: float
    interval: tuple[float, float]


def board_speed(entry: LeaderboardEntry, calls: list[str]) -> tuple[float, tuple[float, float]]:
    """A ranked entry's speed and interval as the board ranks by them (geometric means over the calls)."""
    figures = [entry.speeds[call] for call in calls]
    mean = lambda values: math.exp(sum(math.log(v) for v in values) / len(values))  # noqa: E731
    return (mean([f.speedup_vs_reference for f in figures]),
            (mean([f.ci_low for f in figures]), mean([f.ci_high for f in figures])))


def choose_finalists(results: list[GradeResult], top: int, rank_by: list[str] | None = None) -> tuple[
        list[Finalist], list[str]]:
    """The finalists in board order, and the calls a round's figure is the geometric mean of."""
    if top < 2:
        raise UsageError(f"--top must be at least 2 (finals compare students), got {top}")
    calls = class_board_calls(results, rank_by)
    board = build_leaderboard(results, calls=calls)
    ranked = [entry for entry in board.entries if entry.status == "ranked"]
    if len(ranked) < 2:
        raise UsageError(f"finals need at least two ranked (correct and timed) students; the board has {len(ranked)}")
    by_id = {result.submission.id: result for result in results}
    chosen = ranked[:top]
    _, (kth_low, kth_high) = board_speed(chosen[-1], calls)
    for entry in ranked[top:]:
        _, (low, high) = board_speed(entry, calls)
        if low <= kth_high and high >= kth_low:
            chosen.append(entry)
    finalists = []
    for entry in chosen:
        speed, interval = board_speed(entry, calls)
        result = by_id[entry.student_id]
        finalists.append(Finalist(entry.student_id, entry.rank, result.submission.sha256, result.seed, speed,
                                  interval))
    return finalists, calls
