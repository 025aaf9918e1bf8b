"""Where a student's time goes: one call under a line profiler, in the STUDENT's worker,
after the timed trials (never inside them).

The figures come from the student's own process, which can forge them: they are feedback
for the student only (the harness labels them so, caps them, never scores or ranks them).
A slow loop solution runs several times slower under the profiler, so the call is stopped
after a CPU-time budget (a profiling timer); the figures then cover the part of the call
that ran, which for a loop is its repeating body, and the reply says it was stopped.
"""

import ast
import linecache
import os
import signal
import sys
import types

TOP_LINES = 5
TEXT_CHARS = 160


class _Stopped(BaseException):
    """Raised by the profiling timer; a BaseException so `except Exception` in the student's
    loop does not swallow it (a bare `except:` can, and the harness's call limit still holds)."""


def _import_profiler(root: str):
    # The student's folders lead sys.path by now: leave them out, so a file of theirs
    # named line_profiler.py is not what runs here.
    prefix = os.path.join(os.path.abspath(root), "")
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if not os.path.join(os.path.abspath(p or "."), "").startswith(prefix)]
    try:
        # In a worker, line_profiler is in the worker's own package view (worker_paths, loaded
        # first in every worker); elsewhere (the grader's tests) where it is installed.
        worker_paths = sys.modules.get("worker_paths")
        if worker_paths is None:
            from line_profiler import LineProfiler

            return LineProfiler
        return worker_paths.import_worker_package("line_profiler").LineProfiler
    finally:
        sys.path[:] = saved


def _student_functions(function, prefix: str) -> list:
    """The function, and every function or method of the student's own files its module
    defines (a helper holds the hot loop as often as the function itself does)."""
    found = [function]
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    for value in list(vars(module).values()) if module is not None else []:
        candidates = [value]
        if isinstance(value, type):
            candidates = list(vars(value).values())
        for item in candidates:
            code = getattr(item, "__code__", None)
            if isinstance(item, types.FunctionType) and code.co_filename.startswith(prefix) and item not in found:
                found.append(item)
    return found[:64]


def loop_depths(filename: str) -> dict[int, int]:
    """line -> how many for/while loops enclose it (a loop's own header counts its outer loops)."""
    try:
        with open(filename, encoding="utf-8", errors="replace") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError, RecursionError):
        return {}
    depth: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and node.body:
            for line in range(node.body[0].lineno, (node.body[-1].end_lineno or node.body[-1].lineno) + 1):
                depth[line] = depth.get(line, 0) + 1
    return depth


def profile(function, arguments: list, root: str, budget_s: float) -> dict:
    """Run ``function(*arguments)`` once under the line profiler; the top lines by time."""
    prefix = os.path.join(os.path.abspath(root), "")
    profiler = _import_profiler(root)()
    for item in _student_functions(function, prefix):
        profiler.add_function(item)

    def stop(signum, frame):
        raise _Stopped()

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, max(0.01, budget_s))
    stopped, raised = False, ""
    try:
        profiler.runcall(function, *arguments)
    except _Stopped:
        stopped = True
    except BaseException as exc:  # the student's exception ends the profile, not the worker
        raised = type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    stats = profiler.get_stats()
    rows, total = [], 0.0
    for (filename, _, function_name), lines in stats.timings.items():
        for line, hits, time in lines:
            total += time * stats.unit
            rows.append((time * stats.unit, filename, line, hits, function_name))
    rows.sort(reverse=True)
    depths: dict[str, dict[int, int]] = {}
    top = []
    for seconds, filename, line, hits, function_name in rows[:TOP_LINES]:
        if filename not in depths:
            depths[filename] = loop_depths(filename)
        text = linecache.getline(filename, line).strip()[:TEXT_CHARS]
        shown = filename[len(prefix):] if filename.startswith(prefix) else os.path.basename(filename)
        top.append({"file": shown, "line": line, "function": function_name, "text": text, "hits": hits,
                    "seconds": seconds, "loops": depths[filename].get(line, 0)})
    return {"lines": top, "total_s": total, "stopped": stopped, "budget_s": budget_s, "raised": raised}
