"""What a student reads first: the failed checks (each with its case, hint and what-if), and
the passed checks tallied per rubric group ("8 of 8 passed"). /me (grader/service/pages.py)
and Gradescope's text (grader/publish/gradescope.py) both show a result in this order,
from these lists, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.grading.result import Check, GradeResult

HINT = "Hint:"
LOAD_CHECK = "load"  # the check that fails when the file does not load: its message is the result's failure
NOT_RUN = "not run: "  # the checks a failed load left unrun: each only points to the load check


@dataclass(frozen=True)
class FailedCheck:
    number: int  # 1-based, in the order shown
    check: Check
    first_line: str  # what failed, on which case ("... at pad 0, stride 1 (x (1, 3, 6, 5), ...)")
    hints: list[str]  # hints said here for the first time, in full
    same_hint_as: int | None  # the number of the earlier failed check whose hint this one repeats
    details: str  # the rest of the message (a traceback), without its hints
    what_if: str | None  # what the mechanically repaired copy did on this check, worded


@dataclass(frozen=True)
class GroupTally:
    group: str
    passed: list[Check]
    total: int
    earned: float
    possible: float


def points(value: float) -> str:
    """1.67, not 1.6666666666666667; never -0."""
    return f"{round(value, 2) + 0.0:g}"


def _what_if_outcomes(result: GradeResult) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    if result.what_if is None:
        return outcomes
    for variant in result.what_if.variants:
        for check in variant.checks:
            if check.id in outcomes:
                continue
            first = check.message.splitlines()[0] if check.message else ""
            verdict = "passes" if check.passed else f"still fails: {first}"
            outcomes[check.id] = f"What if ({variant.label}, not scored): this check {verdict}"
    return outcomes


def failed_checks(result: GradeResult) -> list[FailedCheck]:
    """The failed checks in the result's order; a hint repeated by later checks is said once."""
    outcomes = _what_if_outcomes(result)
    first_with: dict[str, int] = {}
    failed = []
    for check in (c for c in result.checks if c.status.value == "failed"):
        number = len(failed) + 1
        lines = check.message.splitlines() or [""]
        hints = [line for line in lines[1:] if line.startswith(HINT)]
        new_hints = [hint for hint in hints if hint not in first_with]
        repeated = [first_with[hint] for hint in hints if hint in first_with]
        first_with.update({hint: number for hint in new_hints})
        failed.append(FailedCheck(
            number=number, check=check, first_line=lines[0], hints=new_hints,
            same_hint_as=repeated[0] if repeated else None,
            details="\n".join(line for line in lines[1:] if not line.startswith(HINT)),
            what_if=outcomes.get(check.id)))
    return failed


@dataclass(frozen=True)
class FixList:
    """The failed checks as a student reads them: the load check's message said once, and the
    checks it left unrun counted on one line instead of listed ("... and 37 checks not run")."""

    failed: list[FailedCheck]  # all of them, numbered
    listed: list[FailedCheck]  # shown one by one
    not_run: list[FailedCheck]  # counted: they only point to the load check

    def not_run_words(self, noun: str) -> str:
        """'... and 37 checks not run (tests 2-38)', ``noun`` naming the numbered things."""
        first, last = self.not_run[0].number, self.not_run[-1].number
        span = f"{noun} {first}" if first == last else f"{noun}s {first}-{last}"
        return f"... and {len(self.not_run)} check{'s' if len(self.not_run) != 1 else ''} not run ({span})"


def is_load_failure(entry: FailedCheck) -> bool:
    """The load check: its whole message (hint included) is the result's failure, said once
    where the result's failure is shown, not again in the check's entry."""
    return entry.check.id == LOAD_CHECK


def fix_list(result: GradeResult) -> FixList:
    failed = failed_checks(result)
    not_run = [entry for entry in failed if entry.first_line.startswith(NOT_RUN)]
    return FixList(failed=failed, listed=[entry for entry in failed if entry not in not_run], not_run=not_run)


def group_tallies(result: GradeResult) -> list[GroupTally]:
    """Each rubric group in the order the result lists its checks, with its passed checks."""
    groups: dict[str, list[Check]] = {}
    for check in result.checks:
        groups.setdefault(check.group, []).append(check)
    return [GroupTally(group=group, passed=[c for c in checks if c.status.value == "passed"], total=len(checks),
                       earned=sum(c.score for c in checks), possible=sum(c.max_score for c in checks))
            for group, checks in groups.items()]


def tally_words(tally: GroupTally) -> str:
    """'forward_hidden: 8 of 8 passed (30 / 30 points)'."""
    return (f"{tally.group}: {len(tally.passed)} of {tally.total} passed "
            f"({points(tally.earned)} / {points(tally.possible)} points)")
