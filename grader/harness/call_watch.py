"""Which forbidden functions ran during a graded call, seen from inside the STUDENT's
worker by a profile hook (``sys.setprofile``), with the student's line that called into
them; and whether the hook was still the grader's when the call returned.

A forbidden pattern names a module (``numpy.lib.stride_tricks``, ``scipy.signal``). Its
functions are known by identity, not by the module their code lives in: NumPy 2's public
``numpy.lib.stride_tricks.as_strided`` runs in ``numpy.lib._stride_tricks_impl``, so a
module-name match missed it whatever path reached it (``getattr(np.lib, "stride_tricks")``).
The functions are resolved from the public names of every loaded module the patterns cover
(and the attribute path from the top-level package) that those modules define (not the
names they import), whenever a module was loaded since the last look; a call is matched on
its code object (a re-wrapped function shares it) or, for a C function, on the object itself. A frame whose module matches a pattern still counts
too (a private helper of a forbidden module).

This is observed evidence, not proof either way: the student's code runs in this process
and can remove the hook, call through a C extension the hook does not see, or forge the
reply. Removing or replacing the hook is reported (``hook``: "removed" or "replaced"), as
seen after the call through the functions this module saved before the student's code was
imported. The host's static check of the source (grader.grading.forbidden) is the other half. The
hook runs only on correctness-check calls, never on timed ones (it slows every call).
"""

import os
import sys
import types

MAX_EVIDENCE = 20
MAX_WRAPPERS = 8  # __wrapped__ / numpy's _implementation links followed from one public object

# Saved at import, before the student's module exists: the student may replace sys's own.
_setprofile = sys.setprofile
_getprofile = sys.getprofile


def forbidden(name: str, patterns: list) -> bool:
    return any(name == p or name.startswith(p + ".") for p in patterns)


def _top(name) -> str:
    return name.split(".", 1)[0] if isinstance(name, str) else ""


class ForbiddenFunctions:
    """The forbidden patterns' public functions: code object or C function -> dotted public name."""

    def __init__(self, patterns: list):
        self.patterns = list(patterns)
        self.codes: dict = {}  # code object -> "module.name"
        self.builtins: dict = {}  # id(C function) -> (the function, kept alive so its id stays its own; "module.name")
        self.modules_seen = -1  # len(sys.modules) at the last look

    def refresh_if_loaded(self) -> None:
        """Look again when a module was loaded (or dropped) since the last look."""
        if len(sys.modules) != self.modules_seen:
            self.refresh()

    def refresh(self) -> None:
        self.modules_seen = len(sys.modules)
        for name, module in list(sys.modules.items()):
            if isinstance(name, str) and isinstance(module, types.ModuleType) and forbidden(name, self.patterns):
                self._add_module(name, module)
        for pattern in self.patterns:  # the public path, also when the student dropped it from sys.modules
            value = sys.modules.get(_top(pattern))
            for part in pattern.split(".")[1:]:
                try:
                    value = getattr(value, part, None) if value is not None else None
                except Exception:  # a module's __getattr__ is code like any other
                    value = None
            if isinstance(value, types.ModuleType):
                self._add_module(pattern, value)
            elif value is not None:  # a pattern that names a function ("scipy.signal.correlate")
                self._add(pattern, value, named=True)

    def _add_module(self, name: str, module: types.ModuleType) -> None:
        try:
            members = list(vars(module).items())
        except TypeError:
            return
        for attribute, value in members:
            if isinstance(attribute, str) and not attribute.startswith("_"):
                self._add(f"{name}.{attribute}", value)

    def _defined_here(self, value) -> bool:
        """Whether a forbidden module defines ``value``, by its public module (``__module__``:
        numpy sets "numpy.lib.stride_tricks" on as_strided) or the module its code runs in. A
        name a forbidden module only imports (scipy.signal's modules import numpy's zeros_like)
        is not forbidden."""
        try:
            homes = [getattr(value, "__module__", None)]
            if isinstance(value, types.FunctionType):
                homes.append(value.__globals__.get("__name__"))
        except Exception:
            return False
        return any(isinstance(home, str) and forbidden(home, self.patterns) for home in homes)

    def _add(self, name: str, value, named: bool = False) -> None:
        if not named and not self._defined_here(value):
            return
        for _ in range(MAX_WRAPPERS):
            # The shortest name a function is found under is its public one (scipy.signal.correlate,
            # not scipy.signal._signaltools.correlate).
            if isinstance(value, types.FunctionType):
                if len(name) < len(self.codes.get(value.__code__, name + ".")):
                    self.codes[value.__code__] = name
            elif isinstance(value, types.BuiltinFunctionType):
                if len(name) < len(self.builtins.get(id(value), (None, name + "."))[1]):
                    self.builtins[id(value)] = (value, name)
            try:  # functools.wraps, and numpy's dispatchers (the code that runs is _implementation's)
                inner = getattr(value, "_implementation", None) or getattr(value, "__wrapped__", None)
            except Exception:
                return
            if inner is None or inner is value:
                return
            value = inner

    def name_of_call(self, frame) -> str:
        return self.codes.get(frame.f_code, "")

    def name_of_c_call(self, function) -> str:
        known = self.builtins.get(id(function))
        return known[1] if known is not None and known[0] is function else ""


_resolved: dict = {}  # tuple(patterns) -> ForbiddenFunctions, kept for the worker's life


def _student_frame(frame, prefix: str):
    while frame is not None and not frame.f_code.co_filename.startswith(prefix):
        frame = frame.f_back
    return frame


def watched_call(function, arguments: list, patterns: list, root: str, evidence: list):
    """``function(*arguments)`` with the hook on; what it saw is appended to ``evidence``
    (also when the call raises, which propagates as without the hook), and, when the hook
    was not the grader's once the call returned, one item ``{"hook": "removed"|"replaced"}``."""
    prefix = os.path.join(os.path.abspath(root), "")
    functions = _resolved.setdefault(tuple(patterns), ForbiddenFunctions(patterns))
    seen: dict = {}

    def hook(frame, event, arg):
        if event == "return" and frame.f_code.co_name == "<module>":
            functions.modules_seen = -1  # an import finished: its module's names are all there now
            return
        if event == "call":
            functions.refresh_if_loaded()
            module = frame.f_globals.get("__name__") or ""
            name = functions.name_of_call(frame)
            caller = frame.f_back
        elif event == "c_call":
            functions.refresh_if_loaded()
            module = getattr(arg, "__module__", None) or ""
            name = functions.name_of_c_call(arg)
            caller = frame
        else:
            return
        if name:  # a forbidden function, known by identity: its public name
            module, _, name = name.rpartition(".")
        elif isinstance(module, str) and forbidden(module, patterns):  # code of a forbidden module
            name = frame.f_code.co_name if event == "call" else getattr(arg, "__qualname__", "")
        else:
            return
        if caller is not None:
            calling = caller.f_globals.get("__name__") or ""
            # Only the crossing into forbidden code, not the calls inside it or inside the
            # library that holds it (np.vectorize uses as_strided: the student did not).
            if not caller.f_code.co_filename.startswith(prefix) and (
                    caller.f_code in functions.codes or forbidden(str(calling), patterns)
                    or (_top(calling) and _top(calling) == _top(module))):
                return
        student = _student_frame(caller, prefix)
        where = (student.f_code.co_filename[len(prefix):], student.f_lineno) if student else ("", 0)
        key = (module, str(name), *where)
        if key in seen or len(seen) < MAX_EVIDENCE:
            seen[key] = seen.get(key, 0) + 1

    functions.refresh_if_loaded()
    _setprofile(hook)
    try:
        result = function(*arguments)
    finally:
        current = _getprofile()
        _setprofile(None)
        evidence += [{"module": module, "name": name, "file": file, "line": line, "count": count}
                     for (module, name, file, line), count in seen.items()]
        if current is not hook:  # first: a flood of evidence must not push it out of the capped reply
            evidence.insert(0, {"hook": "removed" if current is None else "replaced"})
    return result
