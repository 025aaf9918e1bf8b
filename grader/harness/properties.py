"""Checks by property: for a pack whose right answer is not one array (a random layer:
dropout's mask is drawn by the student's code, so no reference can predict it), the
harness hands the pack what each call of a case returned, and the pack judges
properties of those outputs (a seed repeats, kept values are scaled, ...).

A pack opts in by defining ``property_checks(case, outputs)``: ``outputs`` holds one
``CallOutput`` per call of the case, in the case's order (a call may appear twice, e.g.
a forward repeated with the same seed); it returns ``(call, label, passed, message)``
per check, the same checks in the same order whatever the student did, since the host
plans them ahead (``check_plan``). Every case of such a pack is checked this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CallOutput:
    """What one call of a case gave: its sent results that came back as readable float
    arrays, and for every other sent result why not (the call raised, timed out, returned
    None, ...). ``stood_in`` names the kept results the call got as the pack's stand-ins
    (``STAND_INS``: the earlier call kept none), and ``note`` says so on any failure that
    involves this call."""

    call: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    note: str = ""
    stood_in: tuple[str, ...] = ()

    def array(self, label: str) -> tuple[np.ndarray | None, str]:
        """(the array, '') or (None, why there is none)."""
        if label in self.arrays:
            return self.arrays[label], ""
        problem = self.problems.get(label, f"{self.call} returned no {label}")
        first_line, newline, rest = problem.partition("\n")  # the note on the first line, before any traceback
        return None, first_line + self.note + newline + rest


def grades_by_property(pack) -> bool:
    """Whether the pack judges its cases by property instead of against expected outputs."""
    return callable(getattr(pack, "property_checks", None))
