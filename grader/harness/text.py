"""Text a student controls, made safe to store and to show.

Anything a student's code can put into a string (exception messages, printed output,
type names, file names) is cleaned once, where it crosses into the grader:

- valid Unicode only: a lone surrogate (``"\\ud800"``) survives Python and JSON but not
  UTF-8 serialisation, and would crash whatever writes the result later;
- control characters shown, not obeyed: ESC, carriage return, backspace and the others
  become visible ``\\x1b``-style escapes, so a message cannot rewrite a terminal's
  screen (a fake "100/100" over the real score); newline and tab stay;
- capped by encoded bytes, not characters: the report's caps are byte caps, and one
  emoji is 4 bytes of UTF-8 and 12 of ASCII-escaped JSON.

``ReportBudget`` gives everything a student can put into one report a single total.
"""

from __future__ import annotations

import json
import re

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """``text`` as valid Unicode with its control characters (bidirectional overrides
    included) escaped; newlines and tabs kept."""
    text = text if isinstance(text, str) else str(text)
    text = _SURROGATE.sub("\ufffd", text)  # one replacement character per lone surrogate
    return _CONTROL.sub(_escape, text)


def json_size(text: str) -> int:
    """Bytes ``text`` takes in the harness's JSON report (ASCII-escaped)."""
    return len(json.dumps(text))


def clip(text: str, max_bytes: int, marker: str = "... [{} more bytes not shown]") -> str:
    """``text`` cleaned, cut so that its JSON form is at most about ``max_bytes``."""
    text = clean(text)
    size = json_size(text)
    if size <= max_bytes:
        return text
    # Binary search on the character count: sizes per character vary from 1 to 12.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if json_size(text[:middle]) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return text[:low] + marker.format(size - json_size(text[:low]))


class ReportBudget:
    """One total, in JSON bytes, for every student-controlled string of a report."""

    def __init__(self, total_bytes: int):
        self.left = total_bytes

    # Even with the budget spent, each string keeps its head (which check, which
    # exception); a report has a bounded number of strings, so the total stays bounded.
    FLOOR_BYTES = 512

    def take(self, text: str, max_bytes: int) -> str:
        text = clip(text, min(max_bytes, max(self.FLOOR_BYTES, self.left)))
        self.left = max(0, self.left - json_size(text))
        return text


def clean_tree(value):
    """Every string in a JSON-like value (keys included) cleaned; other values as they are."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(key) if isinstance(key, str) else key: clean_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_tree(item) for item in value]
    return value
