"""The checks of one layer of a bundle (assignments.bundle): its pack's own checks, run in
the bundle's shared workers, and a function left as the starter stub said to be one.

A whole-file grading meets unfinished layers all the time (a student who stopped before
group normalisation). The starter code returns None (its ``pass``), or raises
NotImplementedError in some years' templates: every check of such a function fails
anyway, and its message says plainly that the function is still the stub and that the
rest of the file is graded, instead of "out is None ... is the function finished?" on
each of its checks.

Some templates crash on their own code when nothing is filled in (dropout's forward ends
with ``out.astype(...)`` on its ``out = None``): a pack names such errors per call in an
optional ``STUB_ERRORS`` ({call: ((exception type, message), ...)}), which then count as
the stub too.
"""

from __future__ import annotations

from .call_outcome import CallOutcome
from .checking import Checker, CheckRecord


def stub_behaviour(outcome: CallOutcome | None, stub_errors: tuple[tuple[str, str], ...] = ()) -> str | None:
    """What a call did that the starter code does ("returned None", "raised
    NotImplementedError", or one of the pack's ``stub_errors`` for this call), or None
    when it did anything else (or was not run)."""
    if outcome is None:
        return None
    error = outcome.error or {}
    if outcome.status == "raised" and error.get("type") == "NotImplementedError":
        return "raised NotImplementedError"
    if outcome.status == "raised" and (error.get("type"), error.get("message")) in stub_errors:
        return f"raised {error['type']}: {error['message']}"
    if outcome.status == "bad_return" and outcome.message.startswith("returned None"):
        return "returned None"  # a stub with no return statement at all
    if outcome.ok and outcome.results and all(r.kind == "none" for r in outcome.results.values()):
        return "returned None"  # the template's own: out = None ... return out, cache
    return None


class LayerChecker(Checker):
    """A pack's checker that notes, per call, whether every graded call of it behaved as
    the starter stub does (``stub_messages`` then rewrites that call's failed checks)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stub: dict[str, set[str]] = {}  # call -> what its stub-like calls did
        self._worked: set[str] = set()  # calls that did something else at least once

    def saw(self, call: str, outcome: CallOutcome | None) -> None:
        behaviour = stub_behaviour(outcome, tuple(getattr(self.pack, "STUB_ERRORS", {}).get(call, ())))
        if behaviour:
            self._stub.setdefault(call, set()).add(behaviour)
        elif outcome is not None:
            self._worked.add(call)

    def stub_calls(self) -> dict[str, str]:
        """{call: what it did} for the calls that only ever behaved as the starter stub."""
        return {call: " or ".join(sorted(seen)) for call, seen in self._stub.items() if call not in self._worked}

    def stub_messages(self) -> None:
        """Every check of a stub call says so (it scores 0 as any failed check does; the
        layer's inputs check, a property, then earns nothing beside no correct answer)."""
        stubs = self.stub_calls()
        for index, record in enumerate(self.records):
            if record.call in stubs and not record.passed:
                name = self.names[record.call]
                message = (f"{name} is still the starter code's stub (it {stubs[record.call]} on every check): "
                           f"its checks score 0, and the rest of the file is graded as usual")
                self.records[index] = CheckRecord(**{**record.__dict__, "message": message})
