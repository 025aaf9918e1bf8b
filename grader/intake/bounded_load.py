"""Loading a submission under a budget: grader.intake.load in a child (grader.intake.host_budget).

The loader reads the student's bytes on the host (archives, notebooks, every .py it
parses to find the entry), outside the sandbox's deadline and memory limit. Run in a
child with its own limits, a loader that does not finish makes the submission
unloadable with a message the student can act on, instead of holding the grader.

    load_bounded(path, staging_dir, required[, rewrite=...]) -> LoadedSubmission
        raises SubmissionError (an EntrySyntaxError when the entry does not compile) or UsageError,
        as grader.intake.load.load_submission does
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from grader.errors import GraderError, SubmissionError, UsageError
from grader.intake.host_budget import Budget, BudgetExceeded, GiB, MiB, run_bounded
from grader.intake.limits import LoadLimits
from grader.intake.syntax_errors import EntrySyntaxError

# The entry's text comes back with a syntax error (for the what-if repairs): JSON may write
# each character of it as a 6-byte \uXXXX escape, twice for a character outside the BMP.
_LIMITS = LoadLimits()
BUDGET = Budget(wall_s=60.0, cpu_s=45, memory_bytes=2 * GiB,
                output_bytes=12 * max(_LIMITS.max_file_bytes, _LIMITS.max_notebook_bytes) + MiB)
_KINDS = ("py", "folder", "zip", "ipynb")


def load_bounded(path: Path, staging_dir: Path, required: tuple[str, ...], budget: Budget | None = None,
                 rewrite: dict[str, str] | None = None):
    """``rewrite``: staged path -> the text to stage there instead (a what-if copy, as load_submission's)."""
    from grader.intake.load import LoadedSubmission  # what the child answers is checked and rebuilt here

    budget = budget or BUDGET
    staging_dir = Path(os.path.abspath(staging_dir))
    request = {"path": os.path.abspath(path), "staging": str(staging_dir), "required": list(required),
               "rewrite": dict(rewrite or {})}
    try:
        answer = run_bounded("grader.intake.bounded_load:load", request, budget)
        return _rebuilt(answer, staging_dir, LoadedSubmission)
    except BudgetExceeded as exc:
        if exc.what == "crash":  # our loader's bug, not the student's file: never a zero
            raise GraderError(f"the loader failed: {exc.detail}") from exc
        raise SubmissionError(f"loading your submission {exc.describe()}",
                              "submit the .py file that defines the functions (a notebook or an archive "
                              "with less in it loads faster)") from exc


def _rebuilt(answer: object, staging_dir: Path, loaded_class):
    """The child's answer as the loader's own result or exception, each field checked."""
    if isinstance(answer, dict) and isinstance(answer.get("usage_error"), str):
        raise UsageError(answer["usage_error"])
    refused = answer.get("submission_error") if isinstance(answer, dict) else None
    if isinstance(refused, dict) and isinstance(refused.get("message"), str):
        hint = refused.get("hint") if isinstance(refused.get("hint"), str) else None
        syntax = refused.get("syntax")
        if isinstance(syntax, dict) and all(isinstance(syntax.get(k), str) for k in ("where", "source", "cause")):
            raise EntrySyntaxError(refused["message"], hint, where=syntax["where"], source=syntax["source"],
                                   cause=syntax["cause"])
        raise SubmissionError(refused["message"], hint)
    loaded = answer.get("loaded") if isinstance(answer, dict) else None
    strings = ("submission_id", "source_name", "sha256", "kind", "root", "entry")
    if not (isinstance(loaded, dict) and all(isinstance(loaded.get(k), str) for k in strings)
            and isinstance(loaded.get("functions_found"), list) and isinstance(loaded.get("notes"), list)
            and all(isinstance(x, str) for x in loaded["functions_found"] + loaded["notes"])):
        raise BudgetExceeded("crash", BUDGET, "a malformed answer from the loader")
    root, entry = Path(loaded["root"]), PurePosixPath(loaded["entry"])
    if root.parent != staging_dir or entry.is_absolute() or ".." in entry.parts or loaded["kind"] not in _KINDS:
        raise BudgetExceeded("crash", BUDGET, "the loader answered paths outside its staging folder")
    return loaded_class(submission_id=loaded["submission_id"], source_name=loaded["source_name"],
                        sha256=loaded["sha256"], kind=loaded["kind"], root=root, entry=loaded["entry"],
                        functions_found=tuple(loaded["functions_found"]), notes=tuple(loaded["notes"]))


def load(request: dict) -> dict:
    """In the child: grader.intake.load.load_submission, its result or its refusal as plain data."""
    from grader.intake.load import load_submission

    try:
        rewrite = {name: text.encode("utf-8") for name, text in request.get("rewrite", {}).items()}
        loaded = load_submission(Path(request["path"]), Path(request["staging"]), required=tuple(request["required"]),
                                 rewrite=rewrite)
    except EntrySyntaxError as exc:
        return {"submission_error": {"message": exc.message, "hint": exc.hint,
                                     "syntax": {"where": exc.where, "source": exc.source, "cause": exc.cause}}}
    except SubmissionError as exc:
        return {"submission_error": {"message": exc.message, "hint": exc.hint}}
    except UsageError as exc:
        return {"usage_error": str(exc)}
    return {"loaded": {"submission_id": loaded.submission_id, "source_name": loaded.source_name,
                       "sha256": loaded.sha256, "kind": loaded.kind, "root": str(loaded.root), "entry": loaded.entry,
                       "functions_found": list(loaded.functions_found), "notes": list(loaded.notes)}}
