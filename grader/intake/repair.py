"""Mechanical repairs of a student's source, for what-if feedback only (never for a score).

Some submissions fail at their first line of Python 2, old NumPy, a file saved with
mixed tabs, an import of a module the grader does not have, or an unresolved merge,
and their layer is never run. Repairing those mechanically lets the grader tell
the student what the layer itself does (``grader.grading.whatif``). The score is always
what the file as submitted earns.

Every rule is conservative: it changes only what fails in Python 3 or the current
NumPy, and only where the new code means exactly what the old code meant when it ran
(in Python 2, in old NumPy, or with the tabs as Python 2 read them). A change whose
meaning is uncertain (``/`` on something that may be a float, a print statement
left open for 20 lines, a tab width that changes the blocks) is not made, and
the what-if copy then fails the way the submission does. Each repair is recorded with
its line in the file as submitted, so the student can make it.

    scan_conflicts(text)                 -> the merge-conflict blocks and marker lines, in one pass
    conflicts(text)                      -> the merge-conflict blocks, with their lines
    repair_source(text, ...)             -> Repaired(text, repairs, error)
    python2_divisions(text[, tree])      -> the lines where `/` divides two integers
    unused_imports(text, modules)        -> imports of those modules that nothing uses
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from dataclasses import dataclass, field

# Relative: the student kit ships this module and its neighbours as they are (grader/kit/build.py).
from .quiet_compiler import quiet_compiler

# The rules, in the order they run; the names are what results record.
RULES = ("merge_conflict", "python2_print", "tabs", "xrange", "numpy_alias", "python2_division",
         "unused_missing_import", "implicit_relative_import")

# NumPy aliases of builtins, removed in NumPy 1.24 (np.bool came back in 2.0 as np.bool_,
# a different type, so it is not touched). Until their removal, `np.int is int` was True:
# writing the builtin is the very object the student's code used.
REMOVED_NUMPY_ALIASES = ("int", "float", "object", "complex", "str")

# Git's rule for a conflict marker (rerere's is_cmarker): a run of the marker character
# at the start of a line, followed by a space or the line's end. Git writes 7 by default,
# more for a conflict inside a rename or with the conflict-marker-size attribute; a block's
# markers all have the size of its `<<<<<<<` line.
_CONFLICT_MARKER = re.compile(r"^(?P<run><{7,}|\|{7,}|={7,}|>{7,})(?: |$)")
# A Python 2 print statement's first line: `print x`, `print >>f, x`, a bare `print`.
_PRINT_STATEMENT = re.compile(r"^(?P<indent>[ \t]*)print(?P<rest>[ \t]*>>.*|[ \t]+[^\s(=.,>\[].*)?[ \t]*$")
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


@dataclass(frozen=True)
class Conflict:
    """One `<<<<<<< ... ======= ... >>>>>>>` block, as 1-based line numbers."""

    start: int
    middle: int
    end: int
    base: int | None = None  # diff3's `|||||||` line, when present
    first_label: str = ""  # what follows <<<<<<< (often HEAD)
    second_label: str = ""  # what follows >>>>>>> (a branch or commit)
    size: int = 7  # of each marker: git writes 7, more inside a rename or with conflict-marker-size


@dataclass(frozen=True)
class Repair:
    line: int
    """1-based line in the file as submitted (the first line, for a block)."""
    rule: str
    before: str
    after: str
    end_line: int | None = None
    """Last line of a block (a merge conflict), when the repair spans several."""


@dataclass
class Repaired:
    text: str
    repairs: list[Repair] = field(default_factory=list)
    error: str | None = None
    """Why the repaired text still does not compile, when it does not."""
    python2: bool = False
    """Whether Python 2 was recognised (given, or shown by a print statement or xrange)."""


@dataclass(frozen=True)
class ConflictScan:
    """The merge-conflict markers of a text, found in one pass (``scan_conflicts``)."""

    blocks: tuple[Conflict, ...]
    """The complete blocks, in order."""
    marker_lines: tuple[int, ...]
    """Lines holding a `<<<<<<<` or `>>>>>>>` marker, or a `=======` / `|||||||` one after a
    `<<<<<<<`: complete block or not (a lone `=======`, an underline in a docstring, is none)."""


def scan_conflicts(text: str) -> ConflictScan:
    """Every merge-conflict block of ``text``, in one pass over its lines (linear in its size:
    a 16,000-block file must not cost 16,000 passes)."""
    blocks: list[Conflict] = []
    markers: list[int] = []
    start = base = middle = None
    size, first_label = 0, ""
    # split("\n"), as _Source numbers the lines it repairs (splitlines would also split at
    # a form feed or U+2028 and shift every number after it).
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line[0] not in "<|=>":
            continue
        match = _CONFLICT_MARKER.match(line)
        if match is None:
            continue
        run, line = match.group("run"), line.rstrip("\r")
        kind = run[0]
        if kind == "<":
            markers.append(number)
            start, base, middle, size, first_label = number, None, None, len(run), line[len(run):].strip()
        elif start is None:
            if kind == ">":
                markers.append(number)
        elif len(run) != size:
            continue  # another size is not this block's marker (git matches the size too)
        elif kind == "|" and middle is None:
            markers.append(number)
            base = number
        elif kind == "=" and middle is None and line.rstrip() == run:
            markers.append(number)
            middle = number
        elif kind == ">":
            markers.append(number)
            if middle is not None:
                blocks.append(Conflict(start, middle, number, base, first_label, line[len(run):].strip(), size))
            start = base = middle = None
    return ConflictScan(tuple(blocks), tuple(markers))


def conflicts(text: str) -> list[Conflict]:
    """The complete merge-conflict blocks of ``text`` (git's markers at the start of a line)."""
    return list(scan_conflicts(text).blocks)


def line_ranges(numbers: list[int], limit: int = 6) -> str:
    """'3-7, 12, 20-21' for [3, 4, 5, 6, 7, 12, 20, 21]; at most ``limit`` ranges, then 'and N more'."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    shown = [f"{a}-{b}" if a != b else f"{a}" for a, b in ranges[:limit]]
    more = f" and {len(ranges) - limit} more" if len(ranges) > limit else ""
    return ", ".join(shown) + more


def tab_indented_lines(text: str) -> list[int]:
    """Lines whose indentation holds a tab (for a TabError message)."""
    return [n for n, line in enumerate(text.splitlines(), start=1)
            if "\t" in line[: len(line) - len(line.lstrip(" \t"))] and line.strip()]


class _Source:
    """The text being repaired, line by line, with each line's number in the original."""

    def __init__(self, text: str):
        self.original = text.split("\n")
        self.lines = list(self.original)
        self.origin = list(range(1, len(self.lines) + 1))
        self.repairs: list[Repair] = []

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def replace_line(self, index: int, new: str, rule: str) -> None:
        self.lines[index] = new
        self.repairs.append(Repair(self.origin[index], rule, self.original[self.origin[index] - 1].strip(), ""))

    def replace_lines(self, index: int, new: list[str], rule: str) -> None:
        """Replace ``len(new)`` lines from ``index`` (one statement): one repair, spanning them."""
        if len(new) == 1:
            self.replace_line(index, new[0], rule)
            return
        self.lines[index: index + len(new)] = new
        first, last = self.origin[index], self.origin[index + len(new) - 1]
        before = " ".join(line.strip() for line in self.original[first - 1: last])
        self.repairs.append(Repair(first, rule, before, "", last))

    def finish(self) -> list[Repair]:
        """The repairs, each with its line's final text, in line order."""
        final = {origin: line for origin, line in zip(self.origin, self.lines)}
        done = []
        for repair in self.repairs:
            if repair.rule == "merge_conflict":
                after = repair.after
            else:  # a statement over several lines (a continued print) reads as one line
                last = repair.end_line or repair.line
                after = " ".join(final.get(n, "").strip() for n in range(repair.line, last + 1))
            done.append(Repair(repair.line, repair.rule, repair.before, after, repair.end_line))
        unique = {(r.line, r.rule): r for r in done}
        return _tab_blocks(sorted(unique.values(), key=lambda r: (r.line, RULES.index(r.rule))))


def _tab_blocks(repairs: list[Repair]) -> list[Repair]:
    """One repair per run of consecutive re-indented lines: the text itself does not change."""
    merged: list[Repair] = []
    last_tabs = None  # index in merged of the latest tabs repair (no search: linear in the repairs)
    for repair in repairs:
        if repair.rule == "tabs":
            last = merged[last_tabs] if last_tabs is not None else None
            if last is not None and (last.end_line or last.line) == repair.line - 1:
                merged[last_tabs] = Repair(last.line, "tabs", last.before, last.after, repair.line)
                continue
            repair = Repair(repair.line, "tabs", "indented with tabs",
                            "indented with spaces, a tab as 8 columns (as Python 2 read it)", repair.line)
            last_tabs = len(merged)
        merged.append(repair)
    return merged


def repair_source(text: str, *, python2: bool = False, missing_modules: frozenset[str] = frozenset(),
                  conflict_side: int | None = None, conflict_scan: ConflictScan | None = None,
                  beside: frozenset[str] = frozenset()) -> Repaired:
    """Apply every rule that applies; ``conflict_side`` 0 keeps the first side of each
    merge conflict, 1 the second. ``python2``: the code is known to be Python 2 (its
    first error said so), which is what makes `/` between integers a floor division.
    ``conflict_scan``: ``scan_conflicts(text)`` when the caller has it already (a grading
    scans a file once, however many copies it repairs). ``beside``: modules that sit
    beside this file inside its package, which an absolute import cannot reach in Python 3
    (see _implicit_relative_imports)."""
    source = _Source(text)
    if conflict_side is not None:
        _keep_conflict_side(source, conflict_side, conflict_scan or scan_conflicts(text))
    python2 = _python2_prints(source) or python2
    _expand_tabs(source)
    tree, error = _parse(source.text)
    if tree is not None:
        python2 = _ast_rules(source, tree, python2, missing_modules, beside) or python2
        error = _compile_error(source.text)
    return Repaired(source.text, source.finish(), error, python2)


# --- text rules (they run on files that do not parse) ------------------------------


def _keep_conflict_side(source: _Source, side: int, scan: ConflictScan) -> None:
    """Keep one side of every merge-conflict block, dropping the markers and the other side.

    Safe because it invents nothing: each side is code the student (or a collaborator)
    wrote and meant to run; which one they meant is theirs to say, so both are tried.
    """
    keep = [True] * len(source.lines)
    for block in scan.blocks:
        # Line numbers are 1-based: the first side lies between <<<<<<< and ======= (or
        # diff3's ||||||| base section, which belongs to neither side), the second between
        # ======= and >>>>>>>. Every line of the block, markers included, goes but the side kept.
        first_side = range(block.start + 1, block.base or block.middle)
        second_side = range(block.middle + 1, block.end)
        kept = first_side if side == 0 else second_side
        for number in range(block.start, block.end + 1):
            keep[number - 1] = number in kept
        label = block.first_label if side == 0 else block.second_label
        which = "first" if side == 0 else "second"
        note = f"kept the {which} side" + (f" ({label})" if label else "")
        lt, eq, gt = "<" * block.size, "=" * block.size, ">" * block.size  # the markers as the file has them
        source.repairs.append(Repair(source.origin[block.start - 1], "merge_conflict",
                                     f"{lt} {block.first_label} ... {eq} ... {gt} {block.second_label}"
                                     .replace("  ", " ").strip(),
                                     note, source.origin[block.end - 1]))
    source.lines = [line for line, kept in zip(source.lines, keep) if kept]
    source.origin = [origin for origin, kept in zip(source.origin, keep) if kept]


def _python2_prints(source: _Source) -> bool:
    """`print x, y` -> `print(x, y)`; `print x,` -> `print(x, end=" ")`; `print >>f, x` ->
    `print(x, file=f)`; a bare `print` -> `print()`; a statement continued on the next lines
    (a `\\` or an open bracket) keeps its lines, inside the call's parentheses.

    Only when the file does not parse. Safe for the grade: print only writes to the
    student's output (or the file they named), which the grader shows and never reads,
    and these calls print the same text Python 2 did (`end=" "` stands for Python 2's
    trailing comma, whose space was written before the next print instead).
    """
    if _parse(source.text)[0] is not None:
        return False
    changed = False
    index = 0
    while index < len(source.lines):
        match = _PRINT_STATEMENT.match(source.lines[index])
        if not match:
            index += 1
            continue
        statement, looked_at = _print_statement(source.lines, index, match.group("rest") or "")
        if statement is None:
            # Past every line this attempt read: a statement left open is not tried again
            # from each of its lines (that made the rule quadratic in _MAX_PRINT_LINES per
            # line), and the copy cannot compile with it anyway.
            index += looked_at
            continue
        first_line = match.group("indent") + statement[0]
        source.replace_lines(index, [first_line] + statement[1:], "python2_print")
        changed = True
        index += len(statement)
    if changed:
        _undo_inside_strings(source, "python2_print")
    return changed


# A print statement continued over more lines than this is left alone (and the file with it).
_MAX_PRINT_LINES = 20


def _print_statement(lines: list[str], index: int, rest: str) -> tuple[list[str] | None, int]:
    """The print call replacing the statement that starts at ``lines[index]`` (``rest``
    follows `print` there), one string per line it spans, or None when it is not one;
    and how many lines were read."""
    parts = [rest]
    while True:
        call, complete = _print_call("\n".join(parts))
        if call is not None:
            return call, len(parts)
        if complete or len(parts) >= _MAX_PRINT_LINES or index + len(parts) >= len(lines):
            return None, len(parts)
        parts.append(lines[index + len(parts)])


def _print_call(rest: str) -> tuple[list[str] | None, bool]:
    """(the call's lines, whether ``rest`` is a complete statement): the call is None when
    ``rest`` is not what Python 2 printed with, or is continued on the next line."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(rest).readline))
    except tokenize.TokenError:
        return None, False  # an open bracket or a trailing backslash: the statement goes on
    except (SyntaxError, ValueError):
        return None, True
    starts = [0]
    for line in rest.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    offset = lambda position: starts[position[0] - 1] + position[1]  # noqa: E731 - (row, col) -> index
    last_row = rest.count("\n") + 1
    comment = next((t for t in tokens if t.type == tokenize.COMMENT and t.start[0] == last_row), None)
    body = rest[: offset(comment.start)] if comment else rest
    note = "  " + comment.string if comment else ""
    if body.rstrip().endswith("\\"):
        return None, False  # continued on the next line
    depth, comma = 0, None
    for token in tokens:
        if comment is not None and token is comment:
            break
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif token.type == tokenize.OP and token.string == "," and depth == 0 and comma is None:
            comma = offset(token.start)
    body = body.rstrip()
    stripped = body.lstrip()
    arguments, target = stripped, None
    if stripped.startswith(">>"):  # print >>f, x: Python 2's `file=` (to the first top-level comma)
        if comma is None:
            target, arguments = stripped[2:].strip(), ""
        else:
            target, arguments = body[: comma].lstrip()[2:].strip(), body[comma + 1:].strip()
        if not target:
            return None, True
    end = ""
    if arguments.endswith(","):  # Python 2's "no newline"
        arguments, end = arguments[:-1].rstrip(), 'end=" "'
    keywords = ([f"file={target}"] if target else []) + ([end] if end else [])
    call = "print(" + ", ".join(([arguments] if arguments else []) + keywords) + ")"
    try:
        with quiet_compiler():
            ast.parse(call, mode="eval")
    except _PARSE_ERRORS:
        return None, True
    if call.count("\n") != rest.count("\n"):
        return None, True  # never: the call moves text, it adds and drops no line
    new = call.split("\n")
    new[-1] += note
    return new, True


def _expand_tabs(source: _Source) -> None:
    """Expand the tabs of the indentation to the next multiple of 8 columns.

    Only when Python 3 refuses the indentation (TabError). Python 2 read a tab in the
    indentation exactly so, which is how this code ran for its author. It is done only
    when the blocks come out the same at a tab width of 4 too (or 4 does not compile):
    then the meaning does not hang on what width the author's editor showed.
    """
    if not isinstance(_compile_exception(source.text), TabError):
        return
    indexes = [i for i, line in enumerate(source.lines) if "\t" in _indentation(line)]
    if not indexes:
        return
    by_width = {}
    for width in (8, 4):
        lines = list(source.lines)
        for index in indexes:
            indentation = _indentation(lines[index])
            lines[index] = indentation.expandtabs(width) + lines[index][len(indentation):]
        tree, _ = _parse("\n".join(lines))
        by_width[width] = (lines, ast.dump(tree) if tree is not None else None)
    eight, four = by_width[8], by_width[4]
    if four[1] is not None and four[1] != eight[1]:
        return  # the blocks depend on the tab width: no repair
    for index in indexes:
        source.replace_line(index, eight[0][index], "tabs")
    _undo_inside_strings(source, "tabs")


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _undo_inside_strings(source: _Source, rule: str) -> None:
    """Undo this rule's changes on lines that turn out to be inside a multi-line string
    (a docstring quoting `print x`): their text is data, not code."""
    tree, _ = _parse(source.text)
    if tree is None:
        return
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and node.end_lineno:
            inside.update(range(node.lineno + 1, node.end_lineno + 1))
    if not inside:
        return
    kept = []
    index_of = {origin: index for index, origin in enumerate(source.origin)}
    for repair in source.repairs:
        index = index_of.get(repair.line, -1)
        if repair.rule == rule and index >= 0 and index + 1 in inside:
            for number in range(repair.line, (repair.end_line or repair.line) + 1):
                source.lines[index_of[number]] = source.original[number - 1]
        else:
            kept.append(repair)
    source.repairs = kept


# --- rules on the syntax tree -------------------------------------------------------


@dataclass
class _Edit:
    line: int  # 0-based index into source.lines
    start: int  # character offsets in that line
    end: int
    text: str
    rule: str


def _ast_rules(source: _Source, tree: ast.Module, python2: bool, missing_modules: frozenset[str],
               beside: frozenset[str] = frozenset()) -> bool:
    edits: list[_Edit] = []
    bound = _bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "xrange" and isinstance(node.ctx, ast.Load) \
                and "xrange" not in bound:
            # Python 3's range is Python 2's xrange (lazy, same values): same loop, same len.
            edits.append(_edit(source, node, "range", "xrange"))
    python2 = python2 or bool(edits)
    numpy_names = _numpy_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in numpy_names \
                and node.attr in REMOVED_NUMPY_ALIASES and node.lineno == node.end_lineno:
            # np.int was the builtin int itself (see REMOVED_NUMPY_ALIASES).
            edits.append(_edit(source, node, node.attr, "numpy_alias"))
    if python2:
        for line, column in _integer_divisions(tree, source.lines):
            # In Python 2, `/` between two ints is floor division: `//` is what ran. Only
            # where the result is a size or an index (see _size_arithmetic): elsewhere the
            # author of Python 3 code may have meant the true division it gives today.
            edits.append(_Edit(line - 1, column, column + 1, "//", "python2_division"))
    for statement in unused_imports(tree, missing_modules):
        # An import nothing uses changes nothing but whether the module loads.
        for number in range(statement.lineno, (statement.end_lineno or statement.lineno) + 1):
            edits.append(_Edit(number - 1, 0, len(source.lines[number - 1]), "", "unused_missing_import"))
    removed = {e.line for e in edits if e.rule == "unused_missing_import"}  # a line is edited by one rule
    edits += [e for e in _implicit_relative_imports(source, tree, beside) if e.line not in removed]
    edits = [e for e in edits if e is not None]
    for edit in sorted(edits, key=lambda e: (e.line, e.start), reverse=True):
        line = source.lines[edit.line]
        source.replace_line(edit.line, line[:edit.start] + edit.text + line[edit.end:], edit.rule)
    return python2


def _implicit_relative_imports(source: _Source, tree: ast.Module, beside: frozenset[str]) -> list[_Edit]:
    """`from im2col import *` -> `from .im2col import *`; `import im2col` -> `from . import im2col`.

    Only for a module in ``beside``: one that sits beside this file inside its package, which
    the caller has checked nothing else provides (no module of that name on the path, in
    the grading environment or at the submission's root). In Python 2 such an import was
    an implicit relative import, and found exactly that file first; Python 3 looks for it
    only on the path, and fails. A file with `from __future__ import absolute_import`
    imported absolutely in Python 2 too: nothing is changed there.
    """
    if not beside or any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                         and any(a.name == "absolute_import" for a in node.names) for node in tree.body):
        return []
    edits = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno != node.end_lineno:
            continue
        edit = _edit(source, node, "", "implicit_relative_import")
        if edit is None:
            continue
        statement = source.lines[edit.line][edit.start:edit.end]
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in beside:
            new = re.sub(r"^from(\s+)", r"from\1.", statement, count=1)
        elif isinstance(node, ast.Import) and all(a.name in beside for a in node.names):
            # Plain names only: `import a.b` binds a, which `from . import a.b` cannot say.
            new = re.sub(r"^import(?=\s)", "from . import", statement, count=1)
        else:
            continue
        if new != statement:
            edits.append(_Edit(edit.line, edit.start, edit.end, new, "implicit_relative_import"))
    return edits


def _edit(source: _Source, node: ast.AST, text: str, rule: str) -> _Edit | None:
    """Replace a one-line node's text; ast offsets are UTF-8 bytes, lines are str."""
    if node.lineno != node.end_lineno:
        return None
    line = source.lines[node.lineno - 1].encode("utf-8")
    start = len(line[: node.col_offset].decode("utf-8", errors="replace"))
    end = len(line[: node.end_col_offset].decode("utf-8", errors="replace"))
    return _Edit(node.lineno - 1, start, end, text, rule)


def _numpy_aliases(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "numpy")
    return names


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the file binds anywhere (assignment, def, import, parameter, loop target...)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound


# --- imports ---------------------------------------------------------------------------

_DYNAMIC_LOOKUPS = {"eval", "exec", "globals", "locals", "vars", "__import__", "getattr"}


def unused_imports(tree: ast.Module, modules: frozenset[str] | set[str]) -> list[ast.stmt]:
    """Top-level imports of ``modules`` (dotted names; a module's submodules count too)
    whose names nothing in the file uses.

    A star import counts as unused only when every name the file uses is bound in the
    file or a builtin; a file that looks names up dynamically (eval, globals()...) keeps
    all its imports.
    """
    if not modules:
        return []
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if loaded & _DYNAMIC_LOOKUPS:
        return []
    unused = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            names = statement.names
            if not all(_one_of(a.name, modules) for a in names):
                continue
            if all((a.asname or a.name.split(".")[0]) not in loaded for a in names):
                unused.append(statement)
        elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module \
                and _one_of(statement.module, modules):
            if any(a.name == "*" for a in statement.names):
                free = loaded - _bound_names(tree) - set(dir(builtins))
                if not free:
                    unused.append(statement)
            elif all((a.asname or a.name) not in loaded for a in statement.names):
                unused.append(statement)
    alone = _alone_on_their_lines(tree)
    return [s for s in unused if id(s) in alone]


def _one_of(module: str, modules: frozenset[str] | set[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in modules)


def _alone_on_their_lines(tree: ast.Module) -> set[int]:
    """ids of the top-level statements that share no line with another (`import a; f()` do).
    The body is in line order, so only neighbours can share a line: one pass, not one per import."""
    body = tree.body
    alone = set()
    for index, statement in enumerate(body):
        first, last = statement.lineno, statement.end_lineno or statement.lineno
        before = body[index - 1] if index > 0 else None
        after = body[index + 1] if index + 1 < len(body) else None
        if (before is None or (before.end_lineno or before.lineno) < first) and (after is None or after.lineno > last):
            alone.add(id(statement))
    return alone


def import_lines(tree: ast.Module, module: str) -> list[int]:
    """Lines of the imports of ``module`` (a dotted name, its submodules included) anywhere in the file."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(_one_of(a.name, {module}) for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _one_of(node.module or "", {module}):
            lines.append(node.lineno)
    return sorted(lines)


# --- Python 2 division -----------------------------------------------------------------

# Dict keys of the assignment packs' plain-value parameters (PARAM_NAME): integers by their API.
_INTEGER_PARAMETERS = {"stride", "pad", "pool_height", "pool_width"}


def python2_divisions(text: str, tree: ast.Module | None = None) -> list[int]:
    """Lines where `/` divides two integers (shapes, strides, pads, int literals) into a
    size or an index: the ones a Python 2 author meant as floor division. Empty when the
    text does not parse, or is too deeply nested to analyse. ``tree``: the text's, when
    the caller has parsed it already (parsing is most of the cost)."""
    if tree is None:
        tree, _ = _parse(text)
    if tree is None:
        return []
    try:
        return sorted({line for line, _ in _integer_divisions(tree, text.split("\n"))})
    except RecursionError:  # a pathological nesting: no lines to name, never a crash
        return []


def _integer_divisions(tree: ast.Module, lines: list[str]) -> list[tuple[int, int]]:
    """(line, column of the `/`) of every division of two integers that computes a size or an index.

    Every step is linear in the size of the file (each node is visited a bounded number of
    times): the analysis runs on the host, on untrusted text, once per grading."""
    found: list[tuple[int, int]] = []
    positions = _Positions(lines)
    # Scopes are processed from a work list, not by recursion: nested definitions as deep as
    # the parser accepts cannot exhaust the stack.
    pending: list[tuple[list[ast.stmt], list[str], set[str]]] = [(tree.body, [], set())]
    while pending:
        body, params, outer = pending.pop()
        pending.extend(_scope_divisions(body, params, outer, positions, found))
    return found


def _scope_divisions(body: list[ast.stmt], params: list[str], outer: set[str], positions: "_Positions",
                     found: list[tuple[int, int]]) -> list[tuple[list[ast.stmt], list[str], set[str]]]:
    """Add this scope's integer divisions to ``found``; return its nested functions' scopes."""
    nodes = list(_scope_nodes(body))
    integers = _integer_names(nodes, params, outer)
    is_integer = _IntegerCheck(integers)
    sized = _size_arithmetic(nodes)
    nested = []
    for node in nodes:
        if id(node) not in sized:
            pass
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) \
                and is_integer(node.left) and is_integer(node.right):
            position = positions.operator(node.left, node.right)
            if position:
                found.append(position)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div) \
                and isinstance(node.target, ast.Name) and node.target.id in integers \
                and is_integer(node.value):
            position = positions.operator(node.target, node.value)
            if position:
                found.append(position)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
            arguments += [a.arg for a in (node.args.vararg, node.args.kwarg) if a]
            nested.append((node.body, arguments, integers))
    return nested


# Calls whose arguments are sizes or indices: a float there is the TypeError (or NumPy's
# "Cannot cast array data from dtype('float64') to dtype('int64')") Python 2 code meets.
_SIZE_FUNCTIONS = {"range", "xrange", "zeros", "ones", "empty", "full", "reshape", "arange", "take", "repeat",
                   "tile", "resize"}


def _size_arithmetic(nodes: list[ast.AST]) -> set[int]:
    """ids of the nodes that compute a size or an index in this scope: everything inside
    a slice or an index, the arguments of range() and of np.zeros()-like calls, and the
    values assigned to the names used there (followed back through assignments).

    A work list over names: each assignment is followed once and each node marked once,
    so the cost is linear in the scope (a fixpoint that rescanned every assignment until
    nothing changed was quadratic: 10 s for a 53 KB chain of assignments)."""
    sized: set[int] = set()
    names: set[str] = set()
    queue: list[str] = []

    def mark(root: ast.AST, collect: bool) -> None:
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in sized:
                continue
            sized.add(id(node))
            if collect and isinstance(node, ast.Name) and node.id not in names:
                names.add(node.id)
                queue.append(node.id)
            stack.extend(ast.iter_child_nodes(node))

    assignments_of: dict[str, list[ast.stmt]] = {}
    for node in nodes:
        if isinstance(node, ast.Subscript):
            mark(node.slice, True)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name in _SIZE_FUNCTIONS:
                for argument in node.args:
                    mark(argument, True)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in set(_target_names(target)):
                    assignments_of.setdefault(name, []).append(node)
    followed: set[int] = set()
    while queue:
        for node in assignments_of.get(queue.pop(), ()):
            if id(node) in followed:
                continue
            followed.add(id(node))
            mark(node.value, True)  # the value's names are followed in turn
            mark(node, False)  # the whole statement is size arithmetic, its targets add no names
    return sized


def _scope_nodes(body: list[ast.stmt]):
    """Every node of a scope, not descending into nested functions, lambdas or classes
    (the nested function itself is yielded, its body is its own scope)."""
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        pending.extend(ast.iter_child_nodes(node))


def _integer_names(nodes: list[ast.AST], params: list[str], outer: set[str]) -> set[str]:
    """Names that hold an int at every assignment in this scope.

    Start from every assigned name (and the enclosing scope's integers), and drop any with
    an assignment that is not surely an int. Whether a value is an int depends on the
    names it reads only through "all of them are ints" (see _integer_parts), so each value
    is reduced once to the names it needs, and dropping a name drops, through a work list,
    the names whose values need it: linear, where rescanning every fact until nothing
    changed was quadratic in a chain of assignments."""
    facts: list[tuple[str, ast.expr | None]] = [(name, None) for name in params]
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                facts += _assignment_facts(target, node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            facts.append((node.target.id, ast.BinOp(node.target, node.op, node.value)))
        elif isinstance(node, (ast.For, ast.comprehension)):
            iterator = node.iter
            is_range = isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) \
                and iterator.func.id in ("range", "xrange")
            for name in _target_names(node.target):
                facts.append((name, ast.Constant(0) if is_range and isinstance(node.target, ast.Name) else None))
        elif isinstance(node, ast.NamedExpr):
            facts.append((node.target.id, node.value))
        elif isinstance(node, (ast.With, ast.ExceptHandler, ast.Import, ast.ImportFrom, ast.FunctionDef,
                               ast.ClassDef, ast.Global, ast.Nonlocal, ast.Delete)):
            for name in _names_bound_by(node):
                facts.append((name, None))
    assigned = {name for name, _ in facts}
    integers = assigned | (outer - assigned)
    needed_by: dict[str, list[str]] = {}
    dropped: list[str] = []
    requirements: dict[int, frozenset[str] | None] = {}
    for name, value in facts:
        if value is None:
            dropped.append(name)
            continue
        if id(value) not in requirements:
            requirements[id(value)] = _required_names(value)
        needs = requirements[id(value)]
        if needs is None or not needs <= integers:
            dropped.append(name)
        else:
            for needed in needs:
                needed_by.setdefault(needed, []).append(name)
    while dropped:
        name = dropped.pop()
        if name not in integers:
            continue
        integers.discard(name)
        dropped.extend(needed_by.pop(name, ()))
    return integers


def _assignment_facts(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr | None]]:
    facts: list[tuple[str, ast.expr | None]] = []
    pending = [(target, value)]  # a work list: nested tuple targets need no recursion
    while pending:
        target, value = pending.pop()
        if isinstance(target, ast.Name):
            facts.append((target.id, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                pending.extend(zip(target.elts, value.elts))
            elif _is_shape(value):  # N, C, H, W = x.shape
                facts += [(name, ast.Constant(0)) for name in _target_names(target)]
            else:
                facts += [(name, None) for name in _target_names(target)]
    return facts


def _target_names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _names_bound_by(node: ast.AST) -> list[str]:
    if isinstance(node, ast.With):
        return [name for item in node.items if item.optional_vars for name in _target_names(item.optional_vars)]
    if isinstance(node, ast.ExceptHandler):
        return [node.name] if node.name else []
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, ast.Delete):
        return [name for target in node.targets for name in _target_names(target)]
    return []


def _is_shape(node: ast.expr) -> bool:
    """`x.shape` or a slice of it."""
    while isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "shape"


_NEVER = None  # _integer_parts: this node is never surely an int


def _integer_parts(node: ast.expr) -> list[ast.expr] | None:
    """The sub-expressions that must all be ints for ``node`` to surely be an int (with
    Python 2's `/` between ints): [] when it is an int whatever the names hold, None when it
    is never surely one. A Name is its own part (see _required_names). Every rule is an
    "all of": that is what lets _integer_names work on the names a value needs."""
    if isinstance(node, ast.Constant):
        return [] if type(node.value) is int else _NEVER
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Div)):
            return [node.left, node.right]
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
                and type(node.right.value) is int and node.right.value >= 0:
            return [node.left]
        return _NEVER
    if isinstance(node, ast.UnaryOp):
        return [node.operand] if isinstance(node.op, (ast.USub, ast.UAdd)) else _NEVER
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, ast.Attribute):
        return [] if node.attr in ("ndim", "size") else _NEVER
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            return [] if not isinstance(node.slice, ast.Slice) else _NEVER
        integer_parameter = isinstance(node.value, ast.Name) and node.value.id.endswith("_param") \
            and isinstance(node.slice, ast.Constant) and node.slice.value in _INTEGER_PARAMETERS
        return [] if integer_parameter else _NEVER
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("int", "len"):
            return []
        if node.func.id in ("max", "min", "abs") and node.args and not node.keywords:
            return list(node.args)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id.endswith("_param") and node.args \
            and isinstance(node.args[0], ast.Constant) and node.args[0].value in _INTEGER_PARAMETERS:
        return list(node.args[1:])
    return _NEVER


def _required_names(node: ast.expr) -> frozenset[str] | None:
    """The names that must all hold ints for ``node`` to surely be an int, or None when it
    never surely is. Iterative: an expression nested as deep as the parser allows is fine."""
    names: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name):
            names.add(current.id)
            continue
        parts = _integer_parts(current)
        if parts is None:
            return None
        pending.extend(parts)
    return frozenset(names)


class _IntegerCheck:
    """``check(node)``: whether ``node`` surely evaluates to an int, given the scope's
    integer names; memoised, so the operands of nested divisions are each judged once."""

    def __init__(self, integers: set[str]):
        self.integers = integers
        self.known: dict[int, bool] = {}

    def __call__(self, node: ast.expr) -> bool:
        pending = [(node, False)]
        while pending:  # children first (an explicit stack: no recursion)
            current, ready = pending.pop()
            if id(current) in self.known:
                continue
            if isinstance(current, ast.Name):
                self.known[id(current)] = current.id in self.integers
                continue
            parts = _integer_parts(current)
            if parts is None:
                self.known[id(current)] = False
            elif ready:
                self.known[id(current)] = all(self.known[id(part)] for part in parts)
            else:
                pending.append((current, True))
                pending.extend((part, False) for part in parts)
        return self.known[id(node)]


class _Positions:
    """Where the `/` of a division is in the text (ast offsets are UTF-8 bytes, lines are str)."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.ascii: dict[int, bool] = {}

    def operator(self, left: ast.expr, right: ast.expr) -> tuple[int, int] | None:
        """(line, column) of the single `/` between two operands, skipping parentheses and comments."""
        lines = self.lines
        row, column = left.end_lineno, self._char_offset(left.end_lineno, left.end_col_offset)
        stop = (right.lineno, self._char_offset(right.lineno, right.col_offset))
        while (row, column) < stop:
            line = lines[row - 1]
            if column >= len(line) or line[column] == "#":
                row, column = row + 1, 0
                continue
            if line[column] == "/":
                return (row, column) if line[column + 1: column + 2] not in ("/",) else None
            column += 1
        return None

    def _char_offset(self, row: int, byte_offset: int) -> int:
        # An ASCII line's byte offsets are its character offsets: no re-encoding of the
        # line for each division (a long line of divisions would make that quadratic).
        if row not in self.ascii:
            self.ascii[row] = self.lines[row - 1].isascii()
        if self.ascii[row]:
            return byte_offset
        return len(self.lines[row - 1].encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


# --- parsing --------------------------------------------------------------------------


def _parse(text: str) -> tuple[ast.Module | None, str | None]:
    try:
        with quiet_compiler():
            return ast.parse(text), None
    except _PARSE_ERRORS as exc:
        return None, _describe(exc)


def _compile_exception(text: str) -> BaseException | None:
    try:
        with quiet_compiler():
            compile(text, "<submission>", "exec", dont_inherit=True)
    except _PARSE_ERRORS as exc:
        return exc
    return None


def _compile_error(text: str) -> str | None:
    exc = _compile_exception(text)
    return _describe(exc) if exc is not None else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}" if exc.lineno else exc.msg
    return type(exc).__name__
