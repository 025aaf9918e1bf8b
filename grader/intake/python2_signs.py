"""Signs, in a file that Python 3 parses, that its author wrote it for Python 2.

A float used as a size or an index has many symptoms (NumPy's "Cannot cast array data
from dtype('float64') to dtype('int64')", "arrays used as indices must be of integer (or
boolean) type", ...), and each of them also has other causes. The code itself decides:
an integer `/` that computes a size or an index (grader.intake.repair.python2_divisions), in a
file that shows Python 2 elsewhere, is Python 2's floor division. This module finds the
"elsewhere".

    python2_signs(tree)   -> [(line, what)], e.g. [(12, "`xrange`")]
    true_division(tree)   -> whether the file asks for Python 3's `/` (from __future__ import division)

Both walk the tree iteratively (ast.walk) once: linear in the file.
"""

from __future__ import annotations

import ast

# Builtins that Python 3 removed (a NameError where they run, a sign wherever they are).
_REMOVED_BUILTINS = ("xrange", "raw_input", "unicode", "basestring", "long", "unichr", "execfile")
# Methods of Python 2's dict that Python 3 removed.
_REMOVED_DICT_METHODS = ("iteritems", "itervalues", "iterkeys", "has_key")
# Python 2 standard modules that Python 3 renamed.
_PYTHON2_MODULES = ("cPickle", "cStringIO", "StringIO", "urllib2", "Queue", "__builtin__", "itertools.izip")
# `from __future__ import print_function` only means something in Python 2.
_PYTHON2_FUTURES = ("print_function", "absolute_import", "unicode_literals")


def python2_signs(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) of every Python 2 sign in the file, in line order."""
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    bound |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
              for a in n.names}
    signs = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in _REMOVED_BUILTINS \
                and node.id not in bound:
            signs.append((node.lineno, f"`{node.id}`"))
        elif isinstance(node, ast.Attribute) and node.attr in _REMOVED_DICT_METHODS:
            signs.append((node.lineno, f"`.{node.attr}()`"))
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            names = [a.name for a in node.names if a.name in _PYTHON2_FUTURES]
            if names:
                signs.append((node.lineno, f"`from __future__ import {', '.join(names)}`"))
        elif isinstance(node, ast.Import):
            signs += [(node.lineno, f"`import {a.name}`") for a in node.names if a.name in _PYTHON2_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in _PYTHON2_MODULES:
            signs.append((node.lineno, f"`from {node.module} import ...`"))
        elif isinstance(node, ast.ImportFrom) and node.module == "itertools" \
                and any(a.name in ("izip", "imap", "ifilter") for a in node.names):
            signs.append((node.lineno, "`from itertools import izip`"))
    return sorted(signs)


def true_division(tree: ast.Module) -> bool:
    """Whether the file imports Python 3's division into Python 2: its `/` means true division."""
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(a.name == "division" for a in node.names) for node in tree.body)
