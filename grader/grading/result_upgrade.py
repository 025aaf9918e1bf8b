"""Results stored under an older schema, read by today's grader.

A course keeps results across a term (grade-all's results folder, the service's store), and
``convgrade leaderboard`` rebuilds boards from them. Schema 1.0 named a check's or timing's
call in ``function`` ("forward", "backward", or "both" for the inputs check); 2.0 splits it
into ``call``, the student ``function`` and the ``layer`` (the pack). Nothing else changed,
so a 1.0 result is upgraded as it is read, from its assignment's pack; one whose assignment
has no pack here is refused with a message that says to regrade.
"""

from __future__ import annotations

from grader.harness import assignments

# What 1.0 called the checks that cover every call.
_EVERY_CALL_1_0 = "both"
EVERY_CALL = "all"


class RegradeNeeded(ValueError):
    """A stored result this grader cannot read as today's schema: the submission must be regraded."""


def upgrade(document: dict) -> dict:
    """``document`` as schema 2.0 (a copy; the newest schema's documents are returned as they are)."""
    if document.get("schema_version") != "1.0":
        return document
    assignment = document.get("assignment")
    if assignment not in assignments.PACKS:
        raise RegradeNeeded(f"a result of schema 1.0 for assignment {assignment!r}, which this grader has no pack "
                            "for, cannot be read as schema 2.0: regrade the submission")
    pack = assignments.get(assignment)
    names = pack.STUDENT_FUNCTIONS
    every = ", ".join(dict.fromkeys(names.values()))  # a pack may call one function twice

    def named(row: dict, what: str) -> dict:
        call = row.get("function")
        call = EVERY_CALL if call == _EVERY_CALL_1_0 else call
        if call != EVERY_CALL and call not in names:
            raise RegradeNeeded(f"a result of schema 1.0 whose {what} names the call {call!r}, which {pack.NAME} does "
                                "not have: regrade the submission")
        rest = {key: value for key, value in row.items() if key != "function"}
        return {**rest, "call": call, "function": every if call == EVERY_CALL else names[call], "layer": pack.NAME}

    upgraded = dict(document, schema_version="2.0")
    upgraded["checks"] = [named(check, f"check {check.get('id')!r}") for check in document.get("checks", [])]
    upgraded["timing"] = [named(row, "timing") for row in document.get("timing", [])]
    return upgraded
