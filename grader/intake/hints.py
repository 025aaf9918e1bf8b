"""Hints for a submission's first error: what it most likely means, and where to fix it.

The sandbox reports an error as text (type, message, the student's own traceback).
Here, on the host, that text is matched against the mechanical causes that real
submissions fail on before their layer ever runs (Python 2 code, names and
modules removed from NumPy, imports of modules the grader does not have), and the
student's source is read, when it is available, to name the line to change.

    hint_for(error_text, context)   -> a hint, or None
    mechanical_class(error_text)    -> which mechanical cause this is (see CLASSES), or None
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from functools import cached_property

# Relative: the student kit ships this module and its neighbours as they are (grader/kit/build.py).
from .python2_signs import python2_signs, true_division
from .quiet_compiler import quiet_compiler
from .repair import import_lines, python2_divisions, unused_imports

# The causes grader.intake.repair can repair, by name; grader.grading.whatif grades a repaired copy
# when the first error is one of them.
CLASSES = ("python2_division", "python2_builtin", "numpy_alias", "missing_module", "python2_syntax", "tabs",
           "merge_conflict")

# The modules of CS231n's `cs231n` package: an `import im2col` inside it is a Python 2
# implicit relative import of cs231n/im2col.py.
CS231N_MODULES = frozenset({
    "layers", "layer_utils", "fast_layers", "im2col", "im2col_cython", "gradient_check", "data_utils", "solver",
    "optim", "vis_utils", "classifiers", "rnn_layers", "captioning_solver", "coco_utils", "image_utils",
    "net_visualization_pytorch", "net_visualization_tensorflow", "style_transfer_pytorch", "gan_pytorch",
})

_REMOVED_NUMPY_ALIASES = {
    "int": "`int` or `np.int64`",
    "float": "`float` or `np.float64`",
    "bool": "`bool` or `np.bool_`",
    "object": "`object` or `np.object_`",
    "complex": "`complex` or `np.complex128`",
    "str": "`str` or `np.str_`",
    "long": "`int` or `np.int64`",
    "unicode": "`str` or `np.str_`",
}
_PYTHON2_BUILTINS = {
    "xrange": "range",
    "raw_input": "input",
    "unicode": "str",
    "basestring": "str",
    "long": "int",
    "unichr": "chr",
}
_ARRAYPAD = re.compile(r"No module named '?numpy\.lib\.arraypad|module 'numpy\.lib' has no attribute 'pad'")
_NUMPY_ALIAS = re.compile(r"module 'numpy' has no attribute '(\w+)'")
_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
_NUMPY_NAME = re.compile(r"cannot import name '(\w+)' from '(numpy(?:\.[\w.]+)?)'")
_UNDEFINED_NAME = re.compile(r"NameError: name '(\w+)' is not defined")
# What Python and NumPy say when a float (Python 3's `/`) is used as a size or an index.
_FLOAT_SIZE = re.compile(
    r"'float' object cannot be interpreted as an (?:integer|index)"
    r"|slice indices must be integers or None or have an __index__ method"
    r"|only integers, slices \(`:`\), ellipsis \(`\.\.\.`\), numpy\.newaxis \(`None`\) and integer or boolean "
    r"arrays are valid indices"
    r"|expected a sequence of integers or a single integer, got '[-\d.]+\.\d*'"  # reshape(3.0)
)
# What NumPy says when a float array (np.arange of a float size, an index computed with `/`)
# is used as indices or repeats (np.take, np.repeat, fancy indexing). Many other bugs say the
# same: these count as Python 2 division only when the source shows it (see _python2_division_source).
_FLOAT_INDEX = re.compile(
    r"Cannot cast array data from dtype\('float\d*'\) to dtype\('u?int\d*'\)"
    r"|arrays used as indices must be of integer \(or boolean\) type"
    r"|'numpy\.float\d*' object cannot be interpreted as an (?:integer|index)"
)
_COMPATIBILITY_PACKAGES = ("past", "future", "six")
_MAX_LINES_NAMED = 4


@dataclass(frozen=True)
class SourceContext:
    """What the host knows of the submission when it reads an error from the sandbox."""

    entry: str
    """The module that was imported, relative to the submission (e.g. cs231n/layers.py)."""
    text: str | None = None
    """Its source, when it could be read."""
    own_modules: frozenset[str] = frozenset()
    """Top-level module names the submission itself provides (its .py files and folders)."""
    numpy_version: str | None = None
    """NumPy of the grading environment, as the sandbox reported it."""

    # Each analysis of the text is done once per grading, however many failed checks ask
    # for a hint (cached_property writes the instance's __dict__, which frozen allows).

    def tree(self) -> ast.Module | None:
        return self._tree

    @cached_property
    def _tree(self) -> ast.Module | None:
        if self.text is None:
            return None
        try:
            with quiet_compiler():
                return ast.parse(self.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @cached_property
    def _lines(self) -> list[str]:
        return (self.text or "").split("\n")

    def line(self, number: int) -> str:
        lines = self._lines
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""

    @cached_property
    def divisions(self) -> list[int]:
        """Lines of the integer divisions that compute a size or an index (grader.intake.repair)."""
        tree = self.tree()
        return python2_divisions(self.text, tree) if tree is not None else []

    def with_analysis(self, divisions: list[int], python2_signs: list[tuple[int, str]]) -> "SourceContext":
        """A copy holding an analysis already made (in grader.grading.feedback's bounded child)."""
        copy = replace(self)
        copy.__dict__.update(divisions=list(divisions), python2_signs=list(python2_signs))
        return copy

    @cached_property
    def python2_signs(self) -> list[tuple[int, str]]:
        """Python 2 elsewhere in the file (grader.intake.python2_signs); none when it asks for true division."""
        tree = self.tree()
        if tree is None or true_division(tree):
            return []
        return python2_signs(tree)


def _python2_division_source(context: SourceContext | None) -> bool:
    """Whether the source shows Python 2 division: an integer `/` used as a size or an
    index, in a file with other signs of Python 2."""
    return context is not None and bool(context.divisions) and bool(context.python2_signs)


def mechanical_class(error_text: str, context: SourceContext | None = None) -> str | None:
    """Which of CLASSES an error (from the sandbox) belongs to, or None. ``context``: the
    source, which decides for symptoms that have other causes too (a float index)."""
    if _FLOAT_SIZE.search(error_text):
        return "python2_division"
    if _FLOAT_INDEX.search(error_text) and _python2_division_source(context):
        return "python2_division"
    name = _UNDEFINED_NAME.search(error_text)
    if name and name.group(1) in _PYTHON2_BUILTINS:
        return "python2_builtin"
    alias = _NUMPY_ALIAS.search(error_text)
    if alias and alias.group(1) in _REMOVED_NUMPY_ALIASES:
        return "numpy_alias"
    if _MISSING_MODULE.search(error_text) or _NUMPY_NAME.search(error_text):
        return "missing_module"
    return None


def missing_module(error_text: str) -> str | None:
    """The (dotted) name of the module an import error says is missing."""
    found = _MISSING_MODULE.search(error_text)
    return found.group(1) if found else None


def hint_for(error_text: str, context: SourceContext | None = None) -> str | None:
    """A hint for a known cause of a failure (the sandbox's traceback text), or None.

    The source is the student's: an analysis of it that its shape defeats (nesting too
    deep for the parser or the stack, memory) costs the hint its line numbers, never the
    grading."""
    try:
        return _hint_for(error_text, context)
    except (RecursionError, MemoryError):
        return _hint_for(error_text, None)


def with_hint(message: str, context: SourceContext | None = None) -> str:
    """The message, followed by its hint on a line of its own when there is one: how the
    grader's feedback and the student kit both show a failure."""
    hint = hint_for(message, context) if message else None
    return f"{message}\nHint: {hint}" if hint else message


def _hint_for(error_text: str, context: SourceContext | None) -> str | None:
    if not error_text:
        return None
    if _ARRAYPAD.search(error_text):
        return "`numpy.lib.arraypad` / `np.lib.pad` no longer exist in NumPy 2: use `np.pad`"
    alias = _NUMPY_ALIAS.search(error_text)
    if alias and alias.group(1) in _REMOVED_NUMPY_ALIASES:
        name = alias.group(1)
        return f"`np.{name}` was removed from NumPy (use {_REMOVED_NUMPY_ALIASES[name]})"
    if _FLOAT_SIZE.search(error_text):
        return _division_hint(context)
    if _FLOAT_INDEX.search(error_text) and _python2_division_source(context):
        return _division_hint(context) + _signs_named(context)
    module = _MISSING_MODULE.search(error_text)
    if module:
        return _missing_module_hint(module.group(1), context)
    numpy_name = _NUMPY_NAME.search(error_text)
    if numpy_name:
        return (f"`{numpy_name.group(1)}` is not in {_numpy(context)}'s `{numpy_name.group(2)}` (it was removed "
                f"or is private); {_remove_import(numpy_name.group(2), context, 'remove the import')}")
    name = _UNDEFINED_NAME.search(error_text)
    if name and name.group(1) in _PYTHON2_BUILTINS:
        return f"`{name.group(1)}` is Python 2; use `{_PYTHON2_BUILTINS[name.group(1)]}` (the grader runs Python 3)"
    return None


def _division_hint(context: SourceContext | None) -> str:
    hint = "Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float)"
    lines = context.divisions if context is not None else []
    if not lines:
        return hint + "; look for a `/` in the sizes or indices computed before the failing line"
    named = [f"line {n}: `{context.line(n)}`" for n in lines[:_MAX_LINES_NAMED]]
    more = f" and {len(lines) - _MAX_LINES_NAMED} more" if len(lines) > _MAX_LINES_NAMED else ""
    return f"{hint}: {context.entry} {'; '.join(named)}{more}"


def _signs_named(context: SourceContext) -> str:
    """' (the file is Python 2: `xrange` at line 40)': the first line of each kind of sign."""
    first_of_each: dict[str, int] = {}
    for line, what in context.python2_signs:
        first_of_each.setdefault(what, line)
    signs = [(line, what) for what, line in first_of_each.items()]
    named = ", ".join(f"{what} at line {line}" for line, what in signs[:_MAX_LINES_NAMED])
    more = f" and {len(signs) - _MAX_LINES_NAMED} more" if len(signs) > _MAX_LINES_NAMED else ""
    return f" (the file is Python 2: {named}{more})"


def _missing_module_hint(dotted: str, context: SourceContext | None) -> str | None:
    top = dotted.split(".")[0]
    own = context.own_modules if context is not None else frozenset()
    if top in ("past", "future"):
        return (f"`{dotted}` is part of a Python 2 compatibility package that is not installed in the "
                "grader; remove the import (the grader runs Python 3)")
    if top == "cs231n" and "cs231n" not in own:
        return "the grader only has your submission's files; " + _remove_import(
            dotted, context, "include the module or remove the import",
            unused="remove the unused import{where}")
    if top == "numpy":
        return (f"`{dotted}` is not in {_numpy(context)} (a removed or private module; editors add such imports "
                f"on their own); {_remove_import(dotted, context, 'remove the import')}")
    if top in own and context is not None and "/" in context.entry:
        # The submission has it, yet Python 3 did not find it: it lies inside the entry's
        # package, where only a relative import reaches (the worker puts the folders above
        # the package on the path). Never say such a file is missing.
        package = context.entry.rsplit("/", 1)[0]
        return (f"`{top}` is in your submission's package ({package}/), but Python 3 does not look there for "
                f"`import {top}` (Python 2's implicit relative import did): write `from .{top} import ...`")
    if top in own:
        return None  # the student's own module failed for another reason; the traceback says which
    if top in CS231N_MODULES:
        return (f"importing `{top}` inside the cs231n package is a Python 2 implicit relative import of "
                f"cs231n/{top}.py, which is not in your submission; "
                + _remove_import(top, context, f"write `from .{top} import ...` and include {top}.py"))
    return f"{top} is not installed in the grading environment; " + _remove_import(
        top, context, "remove the import, or ask staff to add it", used="remove that code, or ask staff to add it",
        unused="remove the unused import{where}, or ask staff to add it")


def _remove_import(module: str, context: SourceContext | None, otherwise: str, *, used: str | None = None,
                   unused: str = "remove the unused import{where}") -> str:
    """'remove the unused import (layers.py line 3)' when nothing in the file uses it;
    ``used`` (default ``otherwise``) when the file uses it; ``otherwise`` without the source."""
    tree = context.tree() if context is not None else None
    if tree is None:
        return otherwise
    lines = import_lines(tree, module)
    if not lines:
        return otherwise  # imported by another of the student's files
    if unused_imports(tree, {module}):
        return unused.format(where=f" ({context.entry} line {lines[0]})")
    return f"{context.entry} uses it (imported at line {lines[0]}): {used or otherwise}"


def _numpy(context: SourceContext | None) -> str:
    version = context.numpy_version if context is not None else None
    return f"the grading environment's NumPy ({version})" if version else "the grading environment's NumPy"
