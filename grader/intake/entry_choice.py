"""Which staged file is the module to grade: the .py defining the most required
functions (the assignment's own file first), failing that a notebook converted to one.
Nothing is run: files are parsed, and compiled to catch what parsing lets through.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.errors import SubmissionError
from grader.intake.notebook import notebook_to_module
from grader.intake.staging import StagingArea
from grader.intake.quiet_compiler import quiet_compiler
from grader.intake.syntax_errors import UNPARSEABLE, describe_parse_error, parse_quietly, syntax_error


@dataclass(frozen=True)
class Loaded:
    """What a kind-specific loader found, before it becomes a LoadedSubmission."""

    sha256: str
    entry: str
    functions_found: tuple[str, ...]
    notes: list[str]


@dataclass(frozen=True)
class _Candidate:
    path: str
    found: tuple[str, ...]
    error: BaseException | None
    """Why the file does not parse; its functions were then found by a text search."""

    def sort_key(self) -> tuple:
        # Most required functions first, then the assignment's own file, then the
        # shallowest and shortest path; the path itself makes the order total.
        is_layers = self.path == "cs231n/layers.py" or self.path.endswith("/cs231n/layers.py")
        return (-len(self.found), not is_layers, self.path.count("/"), len(self.path), self.path)


def choose_entry(staging: StagingArea, required: tuple[str, ...], notes: list[str]) -> Loaded:
    """Pick the .py that defines the most required functions; failing that, a notebook."""
    python_files = [path for path in staging.paths() if path.lower().endswith(".py")]
    candidates = [_inspect(path, staging.read(path), required) for path in python_files]
    defining = sorted((c for c in candidates if c.found), key=_Candidate.sort_key)
    if not defining:
        return _choose_notebook(staging, required, notes, python_files)

    best = defining[0]
    data = staging.read(best.path)
    if best.error is not None:
        raise syntax_error(best.path, data, best.error)
    checked_entry_functions(best.path, data, required)  # compile-time errors ast.parse lets through
    for broken in (c for c in candidates if c.error is not None):
        notes.append(f"{broken.path} does not parse ({describe_parse_error(broken.error)}) and was not considered")
    others = defining[1:]
    if others:
        names = [name for name in required if any(name in other.found for other in others)]
        verb = "file also defines" if len(others) == 1 else "files also define"
        notes.append(f"{len(others)} other {verb} {' and '.join(names)}; using {best.path}")
    notes.extend(partial_note(best.path, best.found, required))
    return Loaded(staging.submission_digest(), best.path, best.found, notes)


def _choose_notebook(
    staging: StagingArea, required: tuple[str, ...], notes: list[str], python_files: list[str]
) -> Loaded:
    """No .py defines a required function: use the notebook that does, converted next to it."""
    notebooks = [path for path in staging.paths() if path.lower().endswith(".ipynb")]
    failures: list[tuple[str, SubmissionError]] = []
    converted: list[tuple[_Candidate, str, list[str]]] = []
    for path in notebooks:
        try:
            source, notebook_notes = notebook_to_module(staging.read(path), required)
        except SubmissionError as exc:
            failures.append((path, exc))
            continue
        candidate = _inspect(path, source.encode(), required)
        if candidate.found:
            converted.append((candidate, source, notebook_notes))
    if not converted:
        if len(failures) == 1 and len(notebooks) == 1:
            path, exc = failures[0]
            raise SubmissionError(f"{path}: {exc.message}", exc.hint) from exc
        raise nothing_defined(required, python_files + notebooks)

    candidate, source, notebook_notes = min(converted, key=lambda item: item[0].sort_key())
    entry = _free_name(staging, candidate.path[: -len(".ipynb")])
    staging.write_generated(entry, source)
    checked_entry_functions(entry, source.encode(), required)
    notes.append(
        f"no .py file defines {' or '.join(required)}; using the code of notebook {candidate.path} "
        f"(converted to {entry})"
    )
    notes.extend(notebook_notes)
    notes.extend(partial_note(entry, candidate.found, required))
    return Loaded(staging.submission_digest(), entry, candidate.found, notes)


def _free_name(staging: StagingArea, stem: str) -> str:
    """``stem.py`` unless the student already has such a file; never overwrite theirs."""
    taken = set(staging.paths())
    name, counter = f"{stem}.py", 1
    while name in taken:
        name = f"{stem}_from_notebook{'' if counter == 1 else counter}.py"
        counter += 1
    return name


def _inspect(path: str, data: bytes, required: tuple[str, ...]) -> _Candidate:
    try:
        return _Candidate(path, _top_level_functions(parse_quietly(data, path), required), None)
    except UNPARSEABLE as exc:
        text = data.decode("utf-8", errors="replace")
        found = tuple(name for name in required if re.search(rf"^def\s+{re.escape(name)}\b", text, re.MULTILINE))
        return _Candidate(path, found, exc)


def _top_level_functions(tree: ast.Module, required: tuple[str, ...]) -> tuple[str, ...]:
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return tuple(name for name in required if name in defined)


def checked_entry_functions(entry: str, data: bytes, required: tuple[str, ...]) -> tuple[str, ...]:
    """The required functions ``entry`` defines; raises when it does not compile.

    ``compile`` (which runs nothing) also catches what ``ast.parse`` accepts but Python
    refuses, such as ``return`` outside a function.
    """
    try:
        tree = parse_quietly(data, entry)
        with quiet_compiler():
            compile(tree, entry, "exec", dont_inherit=True)
    except UNPARSEABLE as exc:
        raise syntax_error(entry, data, exc) from exc
    return _top_level_functions(tree, required)


def partial_note(entry: str, found: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    missing = [name for name in required if name not in found]
    if not found or not missing:
        return []
    return [f"{entry} defines {' and '.join(found)} but not {' or '.join(missing)}"]


def nothing_defined(required: tuple[str, ...], looked_at: list[str]) -> SubmissionError:
    shown = ", ".join(looked_at[:10])
    if len(looked_at) > 10:
        shown += f" and {len(looked_at) - 10} more"
    if not looked_at:
        hint = "the submission has no .py or .ipynb file"
    else:
        hint = f"looked for top-level `def` statements in: {shown}"
    return SubmissionError(f"no file defines {' or '.join(required)}", hint)
