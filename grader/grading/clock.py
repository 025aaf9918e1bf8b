"""The one clock for the times a result carries (graded_at, a batch's started_at and
finished_at, a board's generated_at): UTC, ISO 8601, to the second, so every file a
person reads stamps time the same way and two stamps compare as text.

    utc_now() -> "2025-03-01T12:00:00+00:00"
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
