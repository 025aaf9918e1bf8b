"""The worker's import path: the first thing a worker process does (UNTRUSTED side).

A worker's Python runs with ``-S``: no site-packages on its path, no .pth file run (an
editable install's finder would hand out the grader itself). Its path is then the
standard library and its own folder; this adds the package view the harness built for
it (``student_packages``: numpy and the course's packages, links to their files), the
same on every backend and rung. The worker's own packages (threadpoolctl, line_profiler)
are in a view of their own, on the path only while the worker imports one of them, and
threadpoolctl leaves sys.modules once used: the student finds neither.

It also puts back what ``site`` would have given the student: exit(), quit(), help().
"""

import importlib
import json
import sys

WORKER_PACKAGES = ""  # the worker's own package view (set by set_up)


def set_up(argument: str) -> dict:
    """Read the worker's JSON configuration (its one argument) and set the import path."""
    global WORKER_PACKAGES
    config = json.loads(argument)
    WORKER_PACKAGES = config.get("worker_packages", "")
    sys.path.append(config["packages"])
    import site  # with -S, importing site adds nothing to the path; its builtins are set here

    site.setquit()
    site.setcopyright()
    site.sethelper()
    return config


def import_worker_package(name: str, keep: bool = True):
    """Import one of the worker's own packages from its view, ahead of anything else on
    the path (a file of the student's named like it must not run instead); ``keep=False``
    drops it from sys.modules again, so the student's ``import`` finds nothing."""
    saved = sys.path[:]
    sys.path[:] = [WORKER_PACKAGES] + [p for p in saved if p != WORKER_PACKAGES]
    try:
        before = set(sys.modules)
        module = importlib.import_module(name)
    finally:
        sys.path[:] = saved
    if not keep:
        for loaded in set(sys.modules) - before:
            if loaded == name or loaded.startswith(name + "."):
                del sys.modules[loaded]
    return module
