"""Gradescope's ``results.json`` from a grading result.

Shape (Gradescope autograder specification): top-level score, execution_time,
output, tests (score, max_score, status, name, output, visibility) and
leaderboard entries. A result the grader failed to produce has no Gradescope form:
writing one would record a zero the student did not earn, so it is refused and the
autograder run fails visibly instead.
"""

from __future__ import annotations

from grader.errors import GraderError
from grader.grading.result import GradeResult
from grader.grading.result_words import PROFILE_HEADING, describe_profile, describe_timing, describe_what_if



def leaderboard_name(call: str) -> str:
    """A Gradescope leaderboard column per timed call: "forward speedup" for a pack (the
    names courses already have); a bundle's calls carry their layer ("maxpool/backward
    speedup"), so two layers' "backward" never share a column."""
    return f"{call} speedup"


def to_gradescope(result: GradeResult) -> dict:
    if not result.gradable:
        raise GraderError(result.failure.message if result.failure else "not gradable")
    tests = [
        {
            "name": check.name,
            "number": str(number),
            "score": check.score,
            "max_score": check.max_score,
            "status": check.status.value,
            "output": check.message,
            "visibility": check.visibility,
        }
        for number, check in enumerate(result.checks, start=1)
    ]
    leaderboard = [
        {"name": leaderboard_name(t.call), "value": round(t.speedup_vs_reference, 4) if t.measured else 0,
         "order": "desc"}
        for t in result.timing
    ]
    summary = [f"Score {result.score:g} / {result.max_score:g}."]
    if result.failure and any(check.id == "load" for check in result.checks):
        # The whole message (and its hint) is the load test's output: say it once.
        summary.append("Your submission could not be loaded or imported: the test 'the submission loads' says why.")
    elif result.failure:
        summary.append(result.failure.message)
    for t in result.timing:
        summary.append(f"{t.call}: " + (
            f"{describe_timing(t)}, {t.trials} trials" if t.measured else (t.reason or "not timed")))
    if result.line_profiles:
        summary.append("\n".join([PROFILE_HEADING] + [line for p in result.line_profiles for line in describe_profile(p)]))
    summary += result.notes
    if result.what_if is not None:
        summary.append(describe_what_if(result.what_if))
    if result.student_output:
        summary.append("Your code printed:\n" + result.student_output)
    return {
        "score": result.score,
        "execution_time": max(1, round(result.wall_time_s)),
        "output": "\n".join(summary),
        "tests": tests,
        "leaderboard": leaderboard,
    }
