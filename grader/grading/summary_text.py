"""The summary a person reads on a terminal, from a result's JSON alone: the score, each
group's points, the speed in words, the first failed checks, and every note.

`convgrade grade` prints it for a result it made; `convgrade submit` (and the student kit's
submit.py) prints it for the result the server sends back. One function, so the two say
the same thing. Standard library only: the student kit ships this file and result_words.py
as they are (grader/kit/build.py).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from .result_words import describe_profile, describe_timing

FAILED_SHOWN = 5  # the first few: the rest are counted, the full list is on the feedback page


def view(value):
    """JSON read by attribute, as the wording functions read a result's parts."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: view(item) for key, item in value.items()})
    if isinstance(value, list):
        return [view(item) for item in value]
    return value


SCORE_DECIMALS = 6  # as grader/grading/scoring.py rounds a total (its SCORE_DECIMALS)


def points(scores: list[float]) -> str:
    """A group's points: the exact sum rounded once, as the scoring rounds a total (never -0)."""
    return f"{round(math.fsum(scores), SCORE_DECIMALS) + 0.0:g}"


def summary_lines(document: dict) -> list[str]:
    """The summary of one result (its JSON, as published): the first line is the score."""
    result = view(document)
    lines = [f"{result.submission.id}: {result.score:g}/{result.max_score:g}"
             + ("  NOT GRADABLE" if not result.gradable else "")]
    if result.failure:
        message = result.failure.message.splitlines() or [""]
        lines.append(f"  {result.failure.kind} failure: {message[0]}")
        lines += [f"  {line}" for line in message[1:] if line.startswith("Hint:")]  # said once here, not per check
    groups: dict[str, tuple[list[float], list[float]]] = {}  # in the result's order, as /me and Gradescope
    for check in result.checks:
        earned, possible = groups.setdefault(check.group, ([], []))
        earned.append(check.score)
        possible.append(check.max_score)
    if groups:
        lines.append("  points: " + ", ".join(f"{group} {points(s)}/{points(m)}" for group, (s, m) in groups.items()))
    lines += [f"  {timing.call}: {describe_timing(timing)}" for timing in result.timing]
    for profile in getattr(result, "line_profiles", []):  # the hottest line only; the result has the top lines
        lines += [f"  where the time goes (feedback, not scored) {line.strip()}"
                  for line in describe_profile(profile, top=1)]
    integrity = getattr(result, "integrity", None)
    if integrity is not None and integrity.uses:
        zeroed = f", {' and '.join(integrity.zeroed)} zeroed" if integrity.zeroed else ""
        lines.append(f"  forbidden calls: {len(integrity.uses)} pieces of evidence{zeroed} "
                     "(staff only: the result's integrity block)")
    if integrity is not None and getattr(integrity, "hook_tampering", []):
        # Marked, not scored: the calls after it were not watched (see grader.grading.forbidden).
        tampered = ", ".join(f"{t.function} {t.what} after {t.calls} check {'call' if t.calls == 1 else 'calls'}"
                             for t in integrity.hook_tampering)
        lines.append(f"  forbidden-call hook tampered with: {tampered} (staff only: the result's integrity block)")
    if getattr(result, "what_if", None) is not None:
        lines.append(f"  what-if (not scored): {result.what_if.summary}")
    failed = [check for check in result.checks if check.status == "failed"]
    not_run = 0
    if failed and failed[0].id == "load":  # the others only point to it: count them
        not_run = sum(check.message.startswith("not run: ") for check in failed[1:])
        failed = failed[:1] + [check for check in failed[1:] if not check.message.startswith("not run: ")]
    for check in failed[:FAILED_SHOWN]:
        first = check.message.splitlines()[0] if check.message else ""
        lines.append(f"  FAILED {check.name}: {first[:300]}")
    if len(failed) > FAILED_SHOWN:
        lines.append(f"  ... and {len(failed) - FAILED_SHOWN} more failed checks")
    if not_run:
        lines.append(f"  ... and {not_run} checks not run")
    lines += [f"  note: {note}" for note in result.notes]
    return lines
