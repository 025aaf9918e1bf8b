"""What one call of a student function gave back, as the harness sees it: a status, each
returned value (an array copied out of the worker, or only its kind), the error.

The student kit ships this module as it is (grader/kit/build.py), so the checks
(grader.harness.checks) read the same outcome on a student's machine as in the grader:
it needs numpy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Returned:
    """One value a student function returned, as the harness sees it."""

    kind: str  # "none" | "other" | "array" | "value" (a plain value left in a dict argument)
    type_name: str = ""
    dtype_name: str = ""
    shape: tuple[int, ...] = ()
    array: np.ndarray | None = None  # a private copy; only for plain float arrays
    too_large: bool = False
    value: Any = None  # kind "value": a number, string, bool or None


@dataclass
class CallOutcome:
    status: str  # "ok" | "raised" | "bad_return" | "timeout" | "died" | "protocol"
    elapsed_s: float  # wall time on the harness's clock (the deadline's measure)
    cpu_s: float | None = None  # the worker's CPU time for the call (what speed figures use)
    results: dict[str, Returned] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    message: str = ""
    changed_args: list[int] = field(default_factory=list)
    inputs_changed: list[str] = field(default_factory=list)
    # Each dict argument as the call left it (argument index -> entry -> value), validated
    # and copied out like the results; "refused" holds why a dict could not be taken back.
    dicts: dict[int, dict[str, Returned]] = field(default_factory=dict)
    dicts_refused: dict[int, str] = field(default_factory=dict)
    ready: dict[str, Any] = field(default_factory=dict)  # the worker's "ready" message, from start()
    # The worker's own figures beside a reply ("observed" forbidden calls, a "profile"): raw,
    # untrusted, bounded only by the message cap; validated where used (speed_feedback.py).
    feedback: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
