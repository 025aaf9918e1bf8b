"""Why a student's file does not compile, in words the student can act on.

Shared by the loader (a .py file, the module to grade) and the notebook reader (a cell):
quiet parsing, and one wording of a syntax error that names a mechanical cause
(merge-conflict markers, mixed tabs and spaces, Python 2 syntax) when there is one.
"""

from __future__ import annotations

import ast
import re

from grader.errors import SubmissionError
from grader.intake.quiet_compiler import quiet_compiler
from grader.intake.repair import ConflictScan, line_ranges, scan_conflicts, tab_indented_lines

UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


def parse_quietly(source: str | bytes, filename: str) -> ast.Module:
    """``ast.parse`` without the SyntaxWarnings and DeprecationWarnings student code provokes.

    An invalid escape like ``'\\d'`` is the student's business, not noise for the grader's log.
    """
    with quiet_compiler():
        return ast.parse(source, filename=filename)


# Python 2 constructs, looked for on the line the error points at.
_PYTHON2_LINE = [
    re.compile(r"^\s*print\s+[^\s(=.]"),  # print "x", print x, print >>f, x
    re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"),  # except ValueError, e:
    re.compile(r"^\s*raise\s+[\w.]+\s*,"),  # raise ValueError, "message"
    re.compile(r"`"),  # `x` meant repr(x)
    re.compile(r"\b[uU][rR][\"']"),  # ur'' strings
    re.compile(r"<>"),
]
_PYTHON2_MESSAGES = ("Missing parentheses in call to", "leading zeros in decimal integer literals")
_PYTHON2_HINT = "this looks like Python 2 code; the grader runs Python 3"


class EntrySyntaxError(SubmissionError):
    """The module to grade does not compile. Carries what a what-if repair needs:
    the file (relative to the submission, or a notebook cell), its text, and the cause."""

    def __init__(self, message: str, hint: str | None, *, where: str, source: str, cause: str,
                 conflict_scan: ConflictScan | None = None):
        super().__init__(message, hint)
        self.where = where
        self.source = source
        self.cause = cause
        """merge_conflict, tabs, python2_syntax or syntax (anything else)."""
        self.conflict_scan = conflict_scan
        """The file's merge-conflict markers, scanned once here and reused by the what-if repairs."""


def syntax_error(where: str, source: str | bytes, exc: BaseException) -> SubmissionError:
    """A SubmissionError for a file (or notebook cell) that does not compile, naming the cause
    when it is mechanical: merge-conflict markers, mixed tabs and spaces, Python 2 syntax."""
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    scan = scan_conflicts(text)
    if scan.marker_lines:
        blocks = scan.blocks
        spans = line_ranges([n for b in blocks for n in range(b.start, b.end + 1)] if blocks else scan.marker_lines)
        return EntrySyntaxError(
            f"{where} still holds unresolved git merge-conflict markers (lines {spans})",
            "keep the side you want of each conflict and delete the <<<<<<<, ======= and >>>>>>> lines",
            where=where, source=text, cause="merge_conflict", conflict_scan=scan)
    if isinstance(exc, TabError):
        tabbed = tab_indented_lines(text)
        return EntrySyntaxError(
            f"{where} mixes tabs and spaces in its indentation (first refused at line {exc.lineno}; "
            f"tab-indented lines: {line_ranges(tabbed)})",
            "indent with spaces only (most editors can convert the indentation to spaces)",
            where=where, source=text, cause="tabs")
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    location = f"{where} line {line}" if line else where
    hint = python2_hint(source, exc)
    return EntrySyntaxError(f"syntax error in {location}: {_error_text(exc)}", hint, where=where, source=text,
                            cause="python2_syntax" if hint else "syntax")


def python2_hint(source: str | bytes, exc: BaseException) -> str | None:
    """The Python 2 hint when the error message or the offending line shows Python 2 syntax."""
    if not isinstance(exc, SyntaxError):
        return None
    if any(marker in exc.msg for marker in _PYTHON2_MESSAGES):
        return _PYTHON2_HINT
    line = exc.text
    if line is None and exc.lineno:
        text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
        lines = text.splitlines()
        line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
    if line and any(pattern.search(line) for pattern in _PYTHON2_LINE):
        return _PYTHON2_HINT
    return None


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg
    if isinstance(exc, (RecursionError, MemoryError)):
        return "too deeply nested to parse"
    return str(exc)


def describe_parse_error(exc: BaseException) -> str:
    """'line 3: invalid syntax', for notes about files that were skipped because they do not parse."""
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    return f"line {line}: {_error_text(exc)}" if line else _error_text(exc)
