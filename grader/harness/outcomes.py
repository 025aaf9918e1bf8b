"""What a call to a worker came back as, seen from the harness: ``CallOutcome`` (a
value, never an exception) and each ``Returned`` value. The student kit ships both
(grader/kit/build.py), so they need nothing but numpy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Returned:
    """One value a student function returned, as the harness sees it."""

    kind: str  # "none" | "other" | "array"
    type_name: str = ""
    dtype_name: str = ""
    shape: tuple[int, ...] = ()
    array: np.ndarray | None = None  # a private copy; only for plain float arrays
    too_large: bool = False


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
    ready: dict[str, Any] = field(default_factory=dict)  # the worker's "ready" message, from start()
    # The worker's own figures beside a reply ("observed" forbidden calls, a "profile"): raw,
    # untrusted, bounded only by the message cap; validated where used (speed_feedback.py).
    feedback: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
