"""The feedback analysis of a graded submission's text: a hint for each failed message,
and the source analysis behind them, computed once per grading under a budget.

Hints read the student's source (grader.intake.hints: the Python 2 division analysis, the
imports, the Python 2 signs). That is host-side work on untrusted text, so it runs in a
child with its own time, memory and output limits (grader.intake.host_budget), once for all
the messages of a grading. When it does not finish, the messages go out without hints
and the result says why in a note; the checks, the score and the timing are the
sandbox's and do not change.

    feedback_for(context, messages) -> Feedback(messages, context, note)
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.intake.host_budget import Budget, BudgetExceeded, GiB, MiB, run_bounded
from grader.intake.hints import SourceContext, with_hint

BUDGET = Budget(wall_s=20.0, cpu_s=15, memory_bytes=2 * GiB, output_bytes=16 * MiB)


@dataclass(frozen=True)
class Feedback:
    messages: list[str]
    """The messages given, each followed by its hint when there is one."""
    context: SourceContext
    """The source context, with the child's analysis in it (or none, when it stopped)."""
    note: str | None = None
    """For the student, when the analysis stopped."""


def feedback_for(context: SourceContext, messages: list[str], budget: Budget | None = None) -> Feedback:
    budget = budget or BUDGET
    request = {"entry": context.entry, "text": context.text, "own_modules": sorted(context.own_modules),
               "numpy": context.numpy_version, "messages": messages}
    try:
        answer = run_bounded("grader.grading.feedback:analyse", request, budget)
        hinted, divisions, signs = _checked(answer, len(messages))
    except BudgetExceeded as exc:
        note = (f"feedback analysis of your file {exc.describe()}: hints omitted (your checks and score "
                "are not affected)")
        return Feedback(list(messages), context, note)
    return Feedback(hinted, context.with_analysis(divisions, signs))


def _checked(answer: object, count: int) -> tuple[list[str], list[int], list[tuple[int, str]]]:
    """The child's answer, checked field by field: it is computed from the student's text."""
    if not isinstance(answer, dict):
        raise BudgetExceeded("crash", BUDGET, "a malformed answer")
    hinted, divisions, signs = answer.get("messages"), answer.get("divisions"), answer.get("python2_signs")
    if not (isinstance(hinted, list) and len(hinted) == count and all(isinstance(m, str) for m in hinted)
            and isinstance(divisions, list) and all(type(n) is int for n in divisions)
            and isinstance(signs, list) and all(isinstance(s, list) and len(s) == 2 and type(s[0]) is int
                                                and isinstance(s[1], str) for s in signs)):
        raise BudgetExceeded("crash", BUDGET, "a malformed answer")
    return hinted, divisions, [(line, what) for line, what in signs]


def analyse(request: dict) -> dict:
    """In the child (grader.intake.host_budget): every message with its hint, and the analysis."""
    context = SourceContext(request["entry"], request["text"], frozenset(request["own_modules"]), request["numpy"])
    messages = [with_hint(message, context) for message in request["messages"]]
    return {"messages": messages, "divisions": context.divisions,
            "python2_signs": [list(sign) for sign in context.python2_signs]}
