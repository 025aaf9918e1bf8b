"""Which spread between gradings a grading's interval uses: this host's, measured by A/A
gradings (``convgrade doctor --timing``, sent by the host under machine.drift), or the
configured constant (``timing.between_gradings_cv``), which stays a floor: a quiet day's
measurement never narrows intervals below what the course configured. Standard library only.
"""

from __future__ import annotations

FLOOR_SOURCE = "the constant floor"


def between_gradings(floor: float, measured: dict | None) -> tuple[float, str]:
    """(the CV the interval uses, what it came from: ``drift_source`` in the result)."""
    cv = _measured_cv(measured)
    if cv is None:
        return floor, FLOOR_SOURCE
    if cv < floor:
        return floor, f"{FLOOR_SOURCE} (this host's measured {cv:.1%} is below it)"
    return cv, f"measured on this host ({measured['gradings']} A/A gradings, {measured['measured_at']})"


def _measured_cv(measured: dict | None) -> float | None:
    """The measured CV when the host's entry has the expected shape, else None (the floor applies)."""
    if not isinstance(measured, dict):
        return None
    cv, when, count = measured.get("cv"), measured.get("measured_at"), measured.get("gradings")
    if (isinstance(cv, (int, float)) and not isinstance(cv, bool) and 0 <= cv <= 0.5
            and isinstance(when, str) and isinstance(count, int) and not isinstance(count, bool)):
        return float(cv)
    return None
