"""Every board a class publishes, from stored results: the overall ranking with the real
reason each unranked student is not on it, one board per function, and the public form.

    build_boards(results, options) -> Leaderboard   what leaderboard.json holds

The overall ranking is ``grader.publish.leaderboard.build_leaderboard``; the per-function boards
rank through the same rule (``rank_standings``), by one function's speed and interval.
Nothing here grades: it reads results, so a board can be rebuilt from OUT/results alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.publish.leaderboard import (
    SPEED_GROUP_PREFIX,
    FunctionBoard,
    FunctionBoardEntry,
    Leaderboard,
    LeaderboardEntry,
    Standing,
    build_leaderboard,
    of_call,
    pseudonym,
    rank_standings,
    speed_figure,
    timed_calls,
)
from grader.errors import UsageError
from grader.publish.finals import FINALS_PAGE, Finals
from grader.grading.result import Check, CheckStatus, FunctionTiming, GradeResult

# A reason is one line on a public page: the start of what failed, never a whole traceback.
REASON_CHARS = 120


@dataclass(frozen=True)
class BoardOptions:
    """How a class's boards are published (the same for ``grade-all`` and a rebuild)."""

    roster: dict[str, str] = field(default_factory=dict)  # id -> display name
    anonymize: bool = False
    salt: str = ""
    submitted_at: dict[str, str] = field(default_factory=dict)  # id -> ISO 8601 time
    title: str | None = None  # the course's title (config); the assignment id otherwise
    hide_unranked_scores: bool = False  # a public board: unranked students are listed without a score
    generated_at: str | None = None
    # The timed calls the class board ranks by; None: class_board_calls' default. Every timed
    # call keeps its own board (function_boards) whichever the class board ranks by.
    calls: list[str] | None = None
    finals: Finals | None = None  # the class's finals (finals.json): the finalists' order comes from them
    # The finals page the board links; None when no finals.html sits beside the board (the
    # finals.json was found in another folder): the marks are then not links.
    finals_page: str | None = FINALS_PAGE


def build_boards(results: list[GradeResult], options: BoardOptions = BoardOptions()) -> Leaderboard:
    """The overall board with reasons and the per-function boards, shaped for publishing."""
    board = build_leaderboard(
        results,
        calls=class_board_calls(results, options.calls),
        roster=options.roster,
        anonymize=options.anonymize,
        anonymize_salt=options.salt,
        submitted_at=options.submitted_at,
        generated_at=options.generated_at,
    )
    by_student = {_key(entry): entry for entry in board.entries}
    by_result = {result.submission.id: result for result in results}
    key_of = {result.submission.id: _result_key(result, options) for result in results}
    result_of = {key_of[student_id]: result for student_id, result in by_result.items()}
    entries = []
    for entry in board.entries:
        update: dict = {}
        if entry.rank is None:
            result = result_of[_key(entry)]
            reason = unranked_reason(result, entry.status)
            update["reason"] = _without_identity(reason, result) if options.anonymize else reason
            if options.hide_unranked_scores:
                update["score"] = None
        entries.append(entry.model_copy(update=update) if update else entry)
    if options.hide_unranked_scores:  # ordered by score, the list would tell the scores it hides
        groups = {status: order for order, status in enumerate(("not_timed", "failed_correctness", "not_gradable"))}
        entries = [e for e in entries if e.rank is not None] + sorted(
            (e for e in entries if e.rank is None), key=lambda e: (groups.get(e.status, 3), e.student, _key(e)))
    names = {student_id: by_student[key_of[student_id]].student for student_id in by_result}
    function_boards = [_function_board(call, results, names, options.anonymize) for call in timed_calls(results)]
    update = {"entries": entries, "title": options.title, "function_boards": function_boards}
    if options.finals is not None:
        note = finals_mismatch(options.finals, board.assignment, board.calls, entries, by_result, key_of)
        if note is None:
            update |= {"entries": with_finals(entries, options.finals, by_result, key_of),
                       "finals": options.finals_page}
        else:
            update |= {"finals_note": note}
    return board.model_copy(update=update)


def finals_mismatch(finals: Finals, assignment: str, calls: list[str], entries: list[LeaderboardEntry],
                    results: dict[str, GradeResult], key_of: dict[str, str]) -> str | None:
    """Why the board must keep its own order despite ``finals``; None when it may take theirs:
    the same assignment and calls, every finalist ranked, and the finalists still on the board
    (same submission) forming its top block, so moving them reorders nobody else."""
    if finals.assignment != assignment:
        return f"The board keeps its own order: the finals are of another assignment ({finals.assignment})."
    if finals.calls != calls:
        return (f"The board keeps its own order: the finals ranked by {', '.join(finals.calls)}, "
                f"the board by {', '.join(calls)}.")
    unranked = [entry for entry in finals.entries if entry.rank is None]
    if unranked:
        return (f"The board keeps its own order: the finals are incomplete ({len(unranked)} of "
                f"{len(finals.entries)} finalists unranked, e.g. {unranked[0].student_id}: {unranked[0].reason}).")
    finalists = {key_of.get(placed.student_id) for placed in finals.entries
                 if (result := results.get(placed.student_id)) is not None and result.submission.sha256 == placed.sha256}
    ranked = [_key(entry) for entry in entries if entry.rank is not None]
    on_board = [key for key in ranked if key in finalists]
    if on_board and set(ranked[:len(on_board)]) != set(on_board):
        return "The board keeps its own order: the finalists are not the top of this board any more (regraded since?)."
    return None


def with_finals(entries: list[LeaderboardEntry], finals: Finals, results: dict[str, GradeResult],
                key_of: dict[str, str]) -> list[LeaderboardEntry]:
    """The board with the finals' order for its finalists: each finalist still ranked on the
    board with the submission the finals timed (the same sha256) is marked with its finals
    rank; together they take the place of the first of them, in the finals' order, ranked
    from that place by their finals ranks; the ranked entries below keep their order, their
    ranks made non-decreasing again. A finalist regraded with another submission since is
    not a finalist any more."""
    ranked = [e for e in entries if e.rank is not None]
    by_key = {_key(e): e for e in ranked}
    finalists = []
    for placed in finals.entries:
        result = results.get(placed.student_id)
        entry = by_key.get(key_of.get(placed.student_id, ""))
        if result is not None and entry is not None and result.submission.sha256 == placed.sha256:
            finalists.append((placed, entry))
    if not finalists:
        return entries
    keys = {_key(entry) for _, entry in finalists}
    first = min(ranked.index(entry) for _, entry in finalists)
    base = ranked[first].rank
    block = [entry.model_copy(update={"rank": base + placed.rank - 1, "finals_rank": placed.rank})
             for placed, entry in finalists]
    others = [e for e in ranked if _key(e) not in keys]
    ordered, highest = [], 0
    for entry in others[:first] + block + others[first:]:
        highest = max(highest, entry.rank)
        ordered.append(entry if entry.rank == highest else entry.model_copy(update={"rank": highest}))
    return ordered + [e for e in entries if e.rank is None]


def class_board_calls(results: list[GradeResult], rank_by: list[str] | None) -> list[str]:
    """The calls the class board ranks by: the course's ``rank_by``, else every timed call
    of a pack's results, else (a bundle's results: every row's call carries its layer) the
    calls of the first layer with timing rows (the bundle's first racing layer), so a whole
    assignment's class board ranks as that layer's single-pack board did. Calls no result
    timed are refused, as a misspelt name would rank everyone as not timed."""
    timed = timed_calls(results)
    if rank_by is not None:
        unknown = [call for call in rank_by if call not in timed]
        if unknown:
            raise UsageError(f"rank_by {unknown}: no result has a timing for it (timed calls: {', '.join(timed) or 'none'})")
        return list(rank_by)
    layers = list(dict.fromkeys(t.layer for result in results for t in result.timing))
    if len(layers) <= 1:
        return timed
    first = layers[0]
    return [call for call in timed if any(t.call == call and t.layer == first for r in results for t in r.timing)]


def _without_identity(reason: str, result: GradeResult) -> str:
    """A reason on an anonymized board must not name the student: a load failure quotes the
    file, and a single-file submission's name is the student's id."""
    submission = result.submission
    for text in sorted({submission.source_name, submission.entry or "", submission.id,
                        Path(submission.source_name).stem}, key=len, reverse=True):
        if text:
            reason = re.sub(re.escape(text), "the submission", reason, flags=re.IGNORECASE)
    return reason


def _key(entry: LeaderboardEntry) -> str:
    """What identifies an entry on this board: its id, or its pseudonym on an anonymized one."""
    return entry.student_id if entry.student_id is not None else entry.student


def _result_key(result: GradeResult, options: BoardOptions) -> str:
    student_id = result.submission.id
    return pseudonym(student_id, options.salt) if options.anonymize else student_id


# ------------------------------------------------------------------ per-function boards


def function_correct_and_timed(result: GradeResult, function: str) -> FunctionTiming | None:
    """The function's timing when it passed every correctness check of its own and was
    timed with an interval; None otherwise. Checks about both functions (inputs unchanged)
    are left to the overall board: they cannot say which function is at fault."""
    if not result.gradable or result.failure is not None:
        return None
    for check in result.checks:
        if of_call(check, function) and not _is_speed(check) and check.status != CheckStatus.PASSED:
            return None
    timing = next((t for t in result.timing if of_call(t, function)), None)
    if timing is None or not timing.measured:
        return None
    figures = (timing.speedup_vs_reference, timing.ci_low, timing.ci_high)
    return timing if all(figure is not None and figure > 0 for figure in figures) else None


def _function_board(function: str, results: list[GradeResult], names: dict[str, str], anonymize: bool) -> FunctionBoard:
    standings = []
    for result in results:
        timing = function_correct_and_timed(result, function)
        if timing is not None:
            standings.append(Standing(result, "ranked", speed=timing.speedup_vs_reference,
                                      interval=(timing.ci_low, timing.ci_high), rank_score=0.0))
    ranked, ranks = rank_standings(standings)
    entries = []
    for standing, rank in zip(ranked, ranks):
        timing = function_correct_and_timed(standing.result, function)
        entries.append(FunctionBoardEntry(
            rank=rank, student=names[standing.student_id], student_id=None if anonymize else standing.student_id,
            speed=speed_figure(timing),
        ))
    return FunctionBoard(call=function, entries=entries)


# ----------------------------------------------------------------------- the reasons


def unranked_reason(result: GradeResult, status: str) -> str:
    """The first thing that keeps a student off the ranking, in words a student can act on.

    A public board carries the grader's words only. Wherever a message quotes the student's
    own text (an exception's message, sys.exit's argument, a reply the worker forged), the
    reason keeps the exception's type and drops the rest, whatever the type is called: one
    student's message once made a board say two others were flagged as copies."""
    if status == "not_gradable" or not result.gradable:
        return "not gradable: the grader failed, not the submission (not a grade)"
    if result.failure is not None:
        return clip_reason(_failure_reason(result.failure.message))
    failed = next((c for c in result.checks if not _is_speed(c) and c.status != CheckStatus.PASSED), None)
    if failed is not None:
        return clip_reason(_check_reason(failed))
    untimed = [t for t in result.timing if not t.measured]
    if untimed:
        timing = untimed[0]
        why = (timing.reason or "not measured").removeprefix("not timed: ")
        return clip_reason(f"correct, but {timing.call} was not timed: {why}")
    return "correct, but a speed figure is incomplete"


# An exception's type as the worker writes it (module.QualifiedName): only these characters
# are kept, so a type whose name holds a sentence ("Flagged: ...") is cut at its first space
# or colon. The harness caps the type at 200 characters; a board shows this many.
TYPE_NAME = re.compile(r"[A-Za-z_][\w.]{0,59}")


def _failure_reason(message: str) -> str:
    """A load or import failure's first line, cut after the exception's type: what follows
    is the student's own text (an exception message), which a public board must not carry."""
    first = _first_line(message)
    importing = re.match(r"importing (.+?) failed: ", first)
    if importing:  # the harness's words, then the worker's "type: message"
        rest = first[importing.end():]
        if rest.startswith("the process "):  # it died: the harness says how
            return first
        kind = TYPE_NAME.match(rest)
        return f"{importing[0]}{kind[0]}" if kind else importing[0].removesuffix(": ")
    raised = re.search(r"\b[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt):", first)
    return first[:raised.end() - 1] if raised else first


def _check_reason(check: Check) -> str:
    """A failed check, by kind: the harness's messages name what went wrong first. Those that
    go on with the student's words (what was raised, the argument of sys.exit, a worker's
    malformed reply) are cut where the student's words begin."""
    message = check.message
    first = _first_line(message)
    function = check.call if check.call != "all" else "a call"
    if "float32 precision" in message:
        return f"{function}: right only to float32 precision ({check.name}); compute in float64"
    unfinished = re.match(r"(\w+) is None\b", first)
    if unfinished:
        return f"{function} unfinished: {unfinished[1]} is None ({check.name})"
    raised = re.match(r"\w+ raised ", first)
    if raised:
        kind = TYPE_NAME.match(first[raised.end():])
        return f"{function} raised {kind[0] if kind else 'an exception'} ({check.name})"
    if re.match(r"\w+ called sys\.exit\(", first):
        return f"{function} called sys.exit ({check.name})"
    memory = re.match(r"memory limit of [\d.]+ GiB exceeded", first)
    if memory:
        return f"{function}: {memory[0]} ({check.name})"
    returned = re.match(r"\w+ returned ([A-Za-z_][\w.]{0,59})( of length \d{1,6})?\b", first)
    if returned:  # the worker's description of the value (a type the student may have named)
        return f"{function} returned {returned[1]}{returned[2] or ''}: not what it should ({check.name})"
    malformed = re.search(r"sent a malformed reply", first)
    if malformed:
        return f"{function}: the worker {malformed[0]} ({check.name})"
    return f"failed {check.name}: {first}"


def _is_speed(check: Check) -> bool:
    return check.group.startswith(SPEED_GROUP_PREFIX)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def clip_reason(text: str) -> str:
    """A reason cut to a board cell's REASON_CHARS (the board's unranked reasons and the finals')."""
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1].rstrip() + "…"
