"""What a student reads when a call gave no usable result: raised, timed out, died,
returned the wrong kind of thing, or the module would not import.

The student kit ships these texts (grader/kit/build.py), so a failed call reads the same
on the student's machine as in the grader; that is why this module needs nothing but
an outcome's ``status``, ``error`` and ``message`` (harness.call_outcome.CallOutcome).
"""

from __future__ import annotations


def describe_failure(outcome, function_name: str, memory_bytes: int, where: str = "") -> str:
    """A message for a call that produced no usable result.

    ``where`` names the case ('at pad 0, stride 1 (x (...), w (...))'): a call that
    raised or crashed is as much tied to its shapes as a wrong answer is, and the
    shapes are what tells a student which bug it is (an empty dx at pad 0 raises
    "could not broadcast ... (3,0,0)" in the next line of their code).
    """
    at = f" {where}" if where else ""
    if outcome.status == "raised":
        error = outcome.error or {}
        kind, text = error.get("type", "Exception"), error.get("message", "")
        if kind == "MemoryError" or "Unable to allocate" in text:
            return (f"memory limit of {memory_bytes / 2**30:g} GiB exceeded in {function_name}{at} "
                    f"({kind}: {text[:300]})")
        if kind == "SystemExit":
            return f"{function_name} called sys.exit({text}){at}; return the results instead"
        hint = ""
        if "can't start new thread" in text or kind == "BlockingIOError" or "multiprocessing" in error.get("traceback", ""):
            hint = " (the grader runs your code as one process: threads and child processes are refused)"
        first_line, newline, rest = text[:500].partition("\n")  # the case ends the message's first line
        return (f"{function_name} raised {kind}: {first_line}{hint}{at}{newline}{rest}\n"
                f"{tail(error.get('traceback', ''))}")
    if outcome.status == "timeout":
        return f"{function_name} {outcome.message} (time limit){at}; is there an infinite loop?"
    if outcome.status == "died":
        suffix = ""
        if "SIGKILL" in outcome.message:
            suffix = f"; most often this is the memory limit of {memory_bytes / 2**30:g} GiB"
        return f"the process running {function_name} {outcome.message}{at}{suffix}"
    if outcome.status == "bad_return":
        return f"{function_name} {outcome.message}{at}"
    return f"{function_name}: {outcome.message}{at}"


def tail(traceback_text: str, lines: int = 8) -> str:
    """The last ``lines`` lines of a traceback: where the student's code failed."""
    return "\n".join(traceback_text.strip().splitlines()[-lines:])


def import_failure(ready, entry: str) -> str:
    """Why the student's module ``entry`` could not be imported (``ready``: the worker's start)."""
    if ready.status == "raised":
        error = ready.error or {}
        where = ""
        if error.get("lineno"):
            where = f" ({error.get('filename')} line {error['lineno']}: {error.get('text', '')})"
        return (f"importing {entry} failed: {error.get('type')}: {error.get('message', '')[:500]}"
                f"{where}\n{tail(error.get('traceback', ''))}")
    if ready.status == "timeout":
        return f"importing {entry} {ready.message}: is there an infinite loop at module level?"
    return f"importing {entry} failed: the process {ready.message}"
