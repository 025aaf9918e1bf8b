"""How a student's exception is told: its type, its message, and a traceback of the
student's own frames only, each clipped. It runs in the untrusted worker (copied beside
untrusted_worker.py, see workers.WORKER_FILES) and in the student kit, shipped as it is
(grader/kit/build.py), so an exception reads the same in both: standard library only.
"""

import os
import traceback

MAX_TEXT = 4000
MAX_TRACEBACK_FRAMES = 12


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def type_name(value) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"


def describe_exception(exc: BaseException, root: str) -> dict:
    """Type, message and a traceback of the student's own frames only, with paths
    relative to the submission (no grader or scratch paths: they mean nothing to a
    student and would differ on every run)."""
    prefix = os.path.join(os.path.abspath(root), "")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(prefix)]
    for frame in frames:
        frame.filename = frame.filename[len(prefix):]
    lines = traceback.format_list(frames[-MAX_TRACEBACK_FRAMES:])
    lines += traceback.format_exception_only(type(exc), exc)
    error = {"type": type_name(exc), "message": clip(str(exc)),
             "traceback": clip("Traceback (your code):\n" + "".join(lines), 12000)}
    if isinstance(exc, SyntaxError):
        error.update(filename=os.path.basename(exc.filename or ""), lineno=exc.lineno, text=(exc.text or "").strip())
    return error
