"""A class's published outputs, rebuilt from every stored result: leaderboards, gradebook
CSVs and Gradescope files (``grader.publish.class_outputs`` renders them; this writes them)."""

from __future__ import annotations

import json
from pathlib import Path

from grader.atomic_write import write_atomic
from grader.batch.progress import BatchLog
from grader.batch.summary import BatchSummary
from grader.publish.class_outputs import OutputOptions, class_outputs, file_mode, with_pseudonym_note
from grader.publish.gradescope import to_gradescope
from grader.grading.result import GradeResult

GRADESCOPE_DIR = "gradescope"


def publish_outputs(summary: BatchSummary, out_dir: Path, results_dir: Path, current_ids: set[str],
                    options: OutputOptions, output_format: str, log: "BatchLog", store_notes: bool = True) -> None:
    """The leaderboards, gradebook CSVs and Gradescope files, from every result in OUT/results.
    ``store_notes``: also write each result's pseudonym note back into results/ (a grading
    run does; a rebuild from someone's stored results need not)."""
    results = load_results(results_dir, log)
    summary.orphan_results = sorted({r.submission.id for r in results} - current_ids)
    if summary.orphan_results:
        log.message(f"{len(summary.orphan_results)} stored result(s) have no submission in the folder any more "
                    f"and stay on the board: {', '.join(summary.orphan_results)}")
    # Each student's own result names their pseudonym, so they can find their row.
    results = [_keep_pseudonym_note(result, options, results_dir if store_notes else None) for result in results]
    outputs = class_outputs(results, options)
    if output_format == "gradescope":
        for result in results:
            rel = f"{GRADESCOPE_DIR}/{result.submission.id}/results.json"
            if result.gradable:
                outputs[rel] = json.dumps(to_gradescope(result), indent=2) + "\n"
            else:  # never leave an older file to be uploaded for a result the grader failed
                (out_dir / rel).unlink(missing_ok=True)
    for rel, text in outputs.items():
        if file_mode(rel) != 0o644:
            (out_dir / rel).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(out_dir / rel, text, mode=file_mode(rel))
    summary.outputs = list(outputs)
    board = json.loads(outputs["leaderboard.json"])
    summary.leaderboard_counts = board["counts"]
    if board.get("finals_note"):
        log.warning(f"warning: {board['finals_note']}")


def _keep_pseudonym_note(result: GradeResult, options: OutputOptions, results_dir: Path | None) -> GradeResult:
    updated = with_pseudonym_note(result, options.salt if options.anonymize else None)
    if updated is not result and results_dir is not None:
        write_atomic(results_dir / f"{result.submission.id}.json", updated.model_dump_json(indent=2) + "\n")
    return updated


def _regrade_note(exc: Exception) -> str:
    """The upgrade's refusal, when that is why a stored result cannot be read (an older
    schema this grader cannot upgrade): its words say to regrade."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    refusals = [error["msg"].removeprefix("Value error, ") for error in errors if "regrade" in str(error.get("msg"))]
    return f": {refusals[0]}" if refusals else ""


def load_results(results_dir: Path, log: "BatchLog | None" = None) -> list[GradeResult]:
    """Every stored result, by id; unreadable files are reported and left out."""
    results = []
    for path in sorted(results_dir.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            results.append(GradeResult.model_validate_json(path.read_bytes()))
        except (OSError, ValueError) as exc:
            if log:
                log.message(f"leaving {path} off the board: unreadable ({type(exc).__name__}){_regrade_note(exc)}")
    return results
