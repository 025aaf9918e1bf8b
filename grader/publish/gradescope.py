"""Gradescope's ``results.json`` from a grading result.

Shape (Gradescope autograder specification): top-level score, execution_time,
output, tests (score, max_score, status, name, output, visibility) and
leaderboard entries. A result the grader failed to produce has no Gradescope form:
writing one would record a zero the student did not earn, so it is refused and the
autograder run fails visibly instead.
"""

from __future__ import annotations

from grader.errors import GraderError
from grader.grading.feedback_order import fix_list, group_tallies, is_load_failure, points, tally_words
from grader.grading.result import GradeResult
from grader.grading.result_words import PROFILE_HEADING, describe_profile, describe_timing, describe_what_if



def leaderboard_name(call: str) -> str:
    """A Gradescope leaderboard column per timed call: "forward speedup" for a pack (the
    names courses already have); a bundle's calls carry their layer ("maxpool/backward
    speedup"), so two layers' "backward" never share a column."""
    return f"{call} speedup"


def to_gradescope(result: GradeResult) -> dict:
    """The failed checks first (tests and text), then the speed, then the passed checks
    tallied per group: the order of /me (grader.grading.feedback_order)."""
    if not result.gradable:
        raise GraderError(result.failure.message if result.failure else "not gradable")
    failed = [check for check in result.checks if check.status.value == "failed"]
    passed = [check for check in result.checks if check.status.value != "failed"]
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
        for number, check in enumerate(failed + passed, start=1)
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
    summary.append(what_to_fix(result))
    if result.what_if is not None:
        summary.append(describe_what_if(result.what_if))
    summary += result.notes
    speed = ["Speed:"] + [f"{t.call}: " + (
        f"{describe_timing(t)}, {t.trials} trials" if t.measured else (t.reason or "not timed"))
        for t in result.timing]
    summary.append("\n".join(speed))
    if result.line_profiles:
        summary.append("\n".join([PROFILE_HEADING] + [line for p in result.line_profiles for line in describe_profile(p)]))
    summary.append("\n".join(["Passed checks (each is a test below):"]
                             + [f"  {tally_words(tally)}" for tally in group_tallies(result)]))
    if result.student_output:
        summary.append("Your code printed:\n" + result.student_output)
    return {
        "score": result.score,
        "execution_time": max(1, round(result.wall_time_s)),
        "output": "\n".join(summary),
        "tests": tests,
        "leaderboard": leaderboard,
    }


def what_to_fix(result: GradeResult) -> str:
    """The failed checks, numbered as the tests are: each with its case, its hint (in full
    once) and what the repaired copy did on it; or that every check passed."""
    fixes = fix_list(result)
    if not fixes.failed:
        return f"All {len(result.checks)} checks passed."
    lines = [f"What to fix: {len(fixes.failed)} failed check{'s' if len(fixes.failed) != 1 else ''}"]
    for entry in fixes.listed:
        if is_load_failure(entry):  # its whole message (and hint) is the load test's output: said once, there
            lines.append(f"{entry.number}. {entry.check.name}: failed; its test below says why")
            continue
        lines.append(f"{entry.number}. {entry.check.name} ({points(entry.check.score)} / "
                     f"{points(entry.check.max_score)} points): {entry.first_line}")
        lines += [f"   {hint}" for hint in entry.hints]
        if entry.same_hint_as is not None:
            lines.append(f"   Hint: the same as for test {entry.same_hint_as}.")
        if entry.what_if:
            lines.append(f"   {entry.what_if}")
    if fixes.not_run:  # they only point to the load test
        lines.append(fixes.not_run_words("test"))
    return "\n".join(lines)
