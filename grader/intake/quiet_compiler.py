"""Parsing and compiling student source on the host, one thread at a time and without warnings.

CPython 3.11's ``ast.parse`` and ``compile`` are not safe to call from several threads at
once: two uploads checked together failed with "AST constructor recursion depth mismatch".
The service's request threads and the in-process Dask workers of ``grade-all --jobs 2`` do
exactly that. ``warnings.catch_warnings`` is process-wide state as well. Each call holds the
lock for milliseconds.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager

COMPILER_LOCK = threading.RLock()


@contextmanager
def quiet_compiler():
    """Hold the compiler alone, with the SyntaxWarnings student code provokes silenced
    (an invalid escape like ``'\\d'`` is the student's business, not the grader's log)."""
    with COMPILER_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
