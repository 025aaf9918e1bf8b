"""Which forbidden modules' functions ran during a graded call, seen from inside the
STUDENT's worker by a profile hook (``sys.setprofile``), with the student's line that
called into them.

This is observed evidence, not proof either way: the student's code runs in this process
and can remove the hook, call through a C extension the hook does not see, or forge the
reply. The host's static check of the source (grader.forbidden) is the other half. The
hook runs only on correctness-check calls, never on timed ones (it slows every call).
"""

import os
import sys

MAX_EVIDENCE = 20


def forbidden(name: str, patterns: list) -> bool:
    return any(name == p or name.startswith(p + ".") for p in patterns)


def _student_frame(frame, prefix: str):
    while frame is not None and not frame.f_code.co_filename.startswith(prefix):
        frame = frame.f_back
    return frame


def watched_call(function, arguments: list, patterns: list, root: str, evidence: list):
    """``function(*arguments)`` with the hook on; what it saw is appended to ``evidence``
    (also when the call raises, which propagates as without the hook)."""
    prefix = os.path.join(os.path.abspath(root), "")
    seen: dict = {}

    def hook(frame, event, arg):
        if event == "call":
            module, name = frame.f_globals.get("__name__") or "", frame.f_code.co_name
            caller = frame.f_back
        elif event == "c_call":
            module, name = getattr(arg, "__module__", None) or "", getattr(arg, "__qualname__", "")
            caller = frame
        else:
            return
        if not isinstance(module, str) or not forbidden(module, patterns):
            return
        # Only the crossing into forbidden code: not its calls among itself.
        if caller is not None and forbidden(str(caller.f_globals.get("__name__") or ""), patterns):
            return
        student = _student_frame(caller, prefix)
        where = (student.f_code.co_filename[len(prefix):], student.f_lineno) if student else ("", 0)
        key = (module, str(name), *where)
        if key in seen or len(seen) < MAX_EVIDENCE:
            seen[key] = seen.get(key, 0) + 1

    sys.setprofile(hook)
    try:
        result = function(*arguments)
    finally:
        sys.setprofile(None)
        evidence += [{"module": module, "name": name, "file": file, "line": line, "count": count}
                     for (module, name, file, line), count in seen.items()]
    return result
