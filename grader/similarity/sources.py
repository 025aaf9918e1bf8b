"""The code that is compared: only the graded functions, as each student wrote them.

Each submission (a .py, a folder, a zip or a notebook) is staged by the grader's own loader,
which runs nothing, and the top-level definitions of the graded functions are cut out of the
module it chose. Everything else in a file (the CS231n template's other layers, imports,
helpers the course gave out) is the same for everyone and would only blur the comparison.
"""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from grader.intake.class_folder import discover_submissions
from grader.errors import SubmissionError, UsageError
from grader.harness import assignments
from grader.intake.load import load_submission
from grader.intake.syntax_errors import parse_quietly

# The graded functions' code compared per submission. A loop solution is a few KB and an
# unrolled or pasted one tens of KB; past this, lexing and the side-by-side report (the code
# twice per pair) cost more than a look at the file would: it is skipped, with the reason.
MAX_COMPARED_CHARS = 200_000


def graded_functions(pack: ModuleType | None = None) -> tuple[str, ...]:
    """The graded functions, from the assignment pack's one declaration of them (nothing
    else here names a function); the default pack's when none is given."""
    # Each once: several calls may exercise one function (batchnorm's three forwards).
    return tuple(dict.fromkeys((pack or assignments.default()).STUDENT_FUNCTIONS.values()))


@dataclass(frozen=True)
class GradedCode:
    owner: str
    """A student id, or 'known:<name>' for a known public solution."""
    source_name: str
    entry: str
    """The file inside the submission the functions came from."""
    code: str
    """The graded functions' source, in the pack's order, blank-line separated."""
    known: bool = False


@dataclass
class Collected:
    codes: list[GradedCode]
    skipped: list[tuple[str, str]]
    """(who, why) for submissions not compared (unloadable, no graded function, too large)."""


def graded_functions_source(text: str, names: tuple[str, ...] | None = None) -> str:
    """The top-level definitions of ``names`` (default: the default pack's graded functions)
    in ``text`` (decorators included), or ''."""
    names = names or graded_functions()
    tree = parse_quietly(text, "<submission>")
    lines = text.splitlines()
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[first - 1:node.end_lineno])
    return "\n\n".join(found[name] for name in names if name in found)


def class_submissions_folder(out_dir: Path) -> Path:
    """Where a grade-all output folder's submissions were read from (its summary.json says)."""
    summary = out_dir / "summary.json"
    if not summary.is_file():
        raise UsageError(f"{out_dir} has no summary.json: is it a grade-all output folder? "
                         "(or give the submissions with --submissions)")
    folder = json.loads(summary.read_text(encoding="utf-8")).get("submissions_dir") or ""
    if not folder or not Path(folder).is_dir():
        raise UsageError(f"the submissions folder recorded in {summary} ({folder!r}) is not there; "
                         "give it with --submissions")
    return Path(folder)


def graded_assignment(out_dir: Path) -> str | None:
    """The assignment a grade-all output folder's stored results were graded as (each
    results/<id>.json records it), so a class graded as a bundle is compared on every layer's
    functions, not the default pack's alone. None when no result says; UsageError when the
    results disagree (the folder holds two gradings: say which with --assignment)."""
    found = set()
    for path in sorted((out_dir / "results").glob("*.json")):
        try:
            found.add(json.loads(path.read_text(encoding="utf-8")).get("assignment"))
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable result says nothing of the class's assignment
    found.discard(None)
    if len(found) > 1:
        raise UsageError(f"the results in {out_dir} were graded as {', '.join(sorted(found))}: "
                         "say which to compare with --assignment")
    return found.pop() if found else None


def collect(folder: Path, pack: ModuleType | None = None, *, known: bool = False) -> Collected:
    """The graded code of every submission in ``folder`` (a class, or known solutions) for
    the assignment ``pack`` (default: the default pack)."""
    names = graded_functions(pack)
    students, _ignored = discover_submissions(folder)
    codes, skipped = [], []
    staging = Path(tempfile.mkdtemp(prefix="convgrade-similarity-"))
    try:
        for student in students:
            owner = f"known:{student.path.name}" if known else student.id
            try:
                loaded = load_submission(student.path, staging, required=names)
                text = (loaded.root / loaded.entry).read_text(encoding="utf-8", errors="replace")
                code = graded_functions_source(text, names)
            except (SubmissionError, UsageError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                skipped.append((owner, f"not loadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"))
                continue
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
            if not code.strip():
                skipped.append((owner, "defines none of the graded functions"))
                continue
            if len(code) > MAX_COMPARED_CHARS:
                skipped.append((owner, f"too large to compare: the graded functions are {len(code):,} characters "
                                       f"(at most {MAX_COMPARED_CHARS:,} are compared); read {loaded.entry} yourself"))
                continue
            codes.append(GradedCode(owner, student.path.name, loaded.entry, code, known))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Collected(codes, skipped)
