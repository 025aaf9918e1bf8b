"""Grade one submission: load it, run the sandbox, score the report, build the result.

Whose fault a failure is decides the result: a submission that cannot be loaded or
imported is graded (all checks fail with the reason, the score counts); a grader
failure (sandbox unavailable, harness crash, deadline) is marked not gradable and
carries no score a gradebook should use.
"""

from __future__ import annotations

import hashlib
import socket
import tempfile
import time
from pathlib import Path

import jsonschema

from grader import __version__
from grader.grading import forbidden
from grader.grading import machine_cache
from grader.grading import whatif
from grader.grading.clock import utc_now
from grader.grading.config import GradingConfig
from grader.errors import GraderError, SubmissionError, UsageError
from grader.harness.assignments import is_bundle
from grader.harness.text import clean_tree
from grader.intake.bounded_load import load_bounded
from grader.grading.feedback import feedback_for
from grader.intake.hints import SourceContext
from grader.intake.load import LoadedSubmission, kind_of, submission_id_for
from grader.intake.notebook import relocator
from grader.grading.report_shape import check_report_shape
from grader.grading.result import (Environment, Failure, FailureKind, FunctionTiming, GradeResult, LineProfile,
                           SubmissionInfo)
from grader.sandbox.base import Sandbox, SandboxJob
from grader.sandbox.placement import Placement
from grader.grading.scoring import score_checks, speed_checks, total
from grader.grading.seeds import GIVEN, course_secret, derive_seed


def _functions(config: GradingConfig) -> tuple[str, ...]:
    return tuple(config.pack().STUDENT_FUNCTIONS.values())


def _untimed(reason: str, config: GradingConfig) -> list[FunctionTiming]:
    return [FunctionTiming(call=reported, function=pack.STUDENT_FUNCTIONS[call], layer=pack.NAME, measured=False,
                           reason=reason, case=pack.speed_case_name(config.timing.size))
            for pack, call, reported in config.timed_calls()]


def _failed_plan(config: GradingConfig, message: str) -> list[dict]:
    return [{**identity, "passed": False, "message": message} for identity in config.pack().check_plan(config.hidden_cases)]


# A submission that cannot be loaded or imported fails one check, which says why, once;
# every planned check then scores zero with a pointer to it, instead of repeating the
# same message (and hint) 37 times. The check carries no points of its own.
LOAD_CHECK = {"id": "load", "name": "the submission loads", "call": "all", "group": "load"}


def _load_check(config: GradingConfig) -> dict:
    """The load check covers every call, so it names every function of the layer."""
    pack = config.pack()
    return {**LOAD_CHECK, "function": ", ".join(dict.fromkeys(pack.STUDENT_FUNCTIONS.values())), "layer": pack.NAME}


def _load_failed_plan(config: GradingConfig, message: str, what: str) -> list[dict]:
    pointer = f"not run: {what} (see the check '{LOAD_CHECK['name']}')"
    return [{**_load_check(config), "passed": False, "message": message}] + _failed_plan(config, pointer)


def grade_submission(
    path: Path,
    sandbox: Sandbox,
    config: GradingConfig | None = None,
    *,
    seed: int | None = None,
    placement: Placement | None = None,
    machine_cache_path: Path | None = None,
) -> GradeResult:
    """Grade one submission in ``sandbox``. ``placement`` says which core and uid slot, what
    else to hide, the batch's timing lock and how long to wait for quiet (a lone grading:
    the defaults); the submission itself and the machine cache are always hidden. Over 60
    lines: the load, the sandbox run and the optional what-if in the order they happen, each
    failure of its own kind (student's, grader's, feedback's) handled where it arises."""
    config = config or GradingConfig()
    derivation = GIVEN
    started = time.monotonic()
    cache_path = machine_cache_path or machine_cache.default_path()
    placement = (placement or Placement()).hiding(Path(path).resolve(), *machine_cache.hidden_paths(cache_path))
    with tempfile.TemporaryDirectory(prefix="convgrade-stage-") as staging:
        try:
            # In a child with its own time and memory limits (grader.intake.bounded_load).
            loaded = load_bounded(Path(path), Path(staging), _functions(config))
        except SubmissionError as exc:
            if seed is None:
                seed, derivation = content_seed(_file_digest(Path(path)), config)
            result = _with_derivation(_unloadable(Path(path), exc, config, seed, started), derivation)
            first = whatif.first_error_of_load(exc, Path(path))
        else:
            if seed is None:  # the same file gets the same hidden cases on every regrade
                seed, derivation = content_seed(loaded.sha256, config)
            size = config.timing.size
            machine = {"host": machine_cache.host_name(), "quiet_wait_s": placement.quiet_wait_s,
                       "cached": _cached_machine(cache_path, config),
                       "drift": machine_cache.drift_for_harness(cache_path, size)}
            job = SandboxJob(
                submission_root=loaded.root, entry=loaded.entry,
                harness_config={**config.harness_job(seed), "machine": machine},
                deadline_s=config.limits.deadline_s, placement=placement.hiding(Path(staging)),
            )
            try:
                run = sandbox.run(job)
                check_report_shape(run.report, config)
                for name, measured in _measured_machine(run.report, config):  # kept for the next gradings
                    machine_cache.store(cache_path, measured, name, size)
                graded, context = _from_report(loaded, run.report, config, seed, started, sandbox.name,
                                               run.scratch_left)
                result = _with_derivation(graded, derivation)
            except GraderError as exc:
                return _with_derivation(_not_gradable(loaded, exc, config, seed, started), derivation)
            first = whatif.first_error_of_report(run.report, loaded, context)
    if first is None or not config.what_if.enabled:
        return result
    # Feedback only: the score, the checks and the timing above are final.
    try:
        what = whatif.what_if(first, Path(path), sandbox, config, seed=seed, placement=placement)
    except whatif.WhatIfStopped as exc:  # the student's file was too big or deep to repair within the budget
        return _finish(result.model_copy(update={"notes": [*result.notes, exc.note()]}))
    except Exception as exc:  # a bug in optional feedback must not cost the student their grade
        note = f"what-if feedback could not be produced (a grader error, not your code): {type(exc).__name__}: {exc}"
        return _finish(result.model_copy(update={"notes": [*result.notes, note]}))
    if what is None:
        return result
    return _finish(result.model_copy(update={"what_if": what, "wall_time_s": round(time.monotonic() - started, 3)}))


def _cached_machine(cache_path: Path, config: GradingConfig) -> dict | None:
    """The host's machine entry for the assignment; a bundle's timed layers each get their
    pack's own ({pack name: entry}), the figures the pack graded alone measured and uses."""
    size = config.timing.size
    if not is_bundle(config.pack()):
        return machine_cache.load(cache_path, config.assignment, size)
    return {pack.NAME: machine_cache.load(cache_path, pack.NAME, size) for pack, _, _ in config.timed_calls()}


def _measured_machine(report: dict, config: GradingConfig) -> list[tuple[str, object]]:
    """(cache name, entry) of what this grading measured: its assignment's, or each of a
    bundle's timed packs' (the store validates every entry before keeping it)."""
    machine = report.get("machine") or {}
    if not isinstance(machine, dict):
        return []
    if not is_bundle(config.pack()):
        return [(config.assignment, machine["measured"])] if machine.get("measured") is not None else []
    layers = machine.get("layers")
    timed = {pack.NAME for pack, _, _ in config.timed_calls()}
    return [(name, entry) for name, entry in layers.items() if name in timed] if isinstance(layers, dict) else []


def content_seed(sha256: str, config: GradingConfig) -> tuple[int, str]:
    """The default seed of a submission with this content hash (``grader.grading.seeds``)."""
    return derive_seed(sha256, config.assignment, course_secret(config.seed_secret))


def _with_derivation(result: GradeResult, derivation: str) -> GradeResult:
    return result.model_copy(update={"seed_derivation": derivation})


def _submission_info(loaded: LoadedSubmission) -> SubmissionInfo:
    return SubmissionInfo(id=loaded.submission_id, source_name=loaded.source_name, kind=loaded.kind,
                          sha256=loaded.sha256, entry=loaded.entry)


def _from_report(loaded, report: dict, config: GradingConfig, seed: int, started: float, backend: str,
                 scratch_left: tuple[str, ...] = ()) -> tuple[GradeResult, SourceContext]:
    """The result, and the source context the hints were made with (for the first error)."""
    imported = report["import"]
    to_cells = relocator(loaded.root / loaded.entry, loaded.entry)  # a converted notebook's lines -> its cells
    context = whatif.source_context(loaded, (report.get("environment") or {}).get("numpy"))
    # np.int or xrange fail inside a call as at import: every failed message gets its hint,
    # all of them from one bounded analysis of the source (grader.grading.feedback).
    failed = [raw for raw in report["checks"] if not raw["passed"]] if imported["ok"] else []
    feedback = feedback_for(context, [to_cells(imported.get("message") or "")]
                            + [to_cells(raw["message"]) for raw in failed])
    message = feedback.messages[0]
    for raw, hinted in zip(failed, feedback.messages[1:]):
        raw["message"] = hinted
    if imported["ok"]:
        raw_checks = report["checks"]
    else:
        raw_checks = _load_failed_plan(config, message, f"{loaded.entry} could not be imported")
    timing = [FunctionTiming(**t) for t in report["timing"]]
    checks = score_checks(raw_checks, config) + speed_checks(timing, config)
    # The static review parses every .py of the submission: in a bounded child (grader.grading.forbidden).
    integrity, review_note = forbidden.review_bounded(loaded.root, report.get("observed_forbidden") or [],
                                                      list(config.forbidden.modules), config.forbidden.policy,
                                                      config.pack().STUDENT_FUNCTIONS)
    if integrity is not None and integrity.zeroed:
        checks = forbidden.zero(checks, integrity.zeroed, config.pack().STUDENT_FUNCTIONS)
    missing = [name for name, found in (imported.get("functions") or {}).items() if not found]
    failure = None
    if not imported["ok"]:
        failure = Failure(kind=FailureKind.STUDENT, message=message)
    elif missing and not is_bundle(config.pack()):
        # A bundle's file with a layer not written yet is graded layer by layer: that layer's
        # checks say "not defined", the loader's note names what is missing, the rest counts.
        failure = Failure(kind=FailureKind.STUDENT, message=f"{', '.join(missing)} not defined in {loaded.entry}")
    notes = list(loaded.notes) + [note for note in (feedback.note, review_note) if note]
    return _finish(GradeResult(
        grader_version=__version__, assignment=config.assignment, config_hash=config.config_hash(),
        submission=_submission_info(loaded), seed=seed, graded_at=utc_now(), gradable=True, failure=failure,
        score=total(c.score for c in checks), max_score=total(c.max_score for c in checks),
        checks=checks, timing=timing, notes=notes, student_output=report.get("student_output", ""),
        line_profiles=[LineProfile(**p) for p in report.get("line_profiles") or []], integrity=integrity,
        environment=Environment(**report["environment"], sandbox=backend,
                                isolation=_isolation(report["sandboxing"]), host=socket.gethostname(),
                                peak_source=_peak_source(report), scratch_left=list(scratch_left)),
        wall_time_s=round(time.monotonic() - started, 3),
    )), feedback.context


def _peak_source(report: dict) -> str | None:
    machine = report.get("machine")
    return str(machine.get("source"))[:300] if isinstance(machine, dict) and machine.get("source") else None


def _isolation(sandboxing: dict) -> dict:
    """The harness's account of its isolation; a report without one (an older harness
    image) still says what it lacked."""
    described = sandboxing.get("isolation")
    if isinstance(described, dict):
        return {key: described.get(key) for key in ("level", "has", "lacks") if key in described}
    return {"level": "unknown", "lacks": list(sandboxing.get("notes") or [])}


def submission_sha256(path: Path, config: GradingConfig | None = None) -> str | None:
    """The ``submission.sha256`` that grading ``path`` records, found without grading it.

    Only loads (nothing of the student's runs). None when the recorded hash would not
    follow the content: a folder that cannot be loaded is recorded by its name. ``config``
    names the assignment, whose functions choose a folder's entry (default: the default pack).
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="convgrade-hash-") as staging:
        try:
            # Bounded like a grading's load: grade-all and the service hash before they dispatch.
            return load_bounded(path, Path(staging), _functions(config or GradingConfig())).sha256
        except SubmissionError:
            return _file_digest(path) if path.is_file() else None


def content_sha256(path: Path, config: GradingConfig | None = None) -> str:
    """The hash that grading ``path`` records and derives its default seed from."""
    return submission_sha256(path, config) or _file_digest(Path(path))


def grader_failure_result(path: Path, message: str, config: GradingConfig, seed: int | None,
                          wall_time_s: float = 0.0) -> GradeResult:
    """A not-gradable result for ``path`` when grading it failed before any sandbox answer
    (an unexpected error in the grader itself): recorded, never a zero for the student."""
    info = _path_info(Path(path))
    derivation = GIVEN
    if seed is None:
        seed, derivation = content_seed(info.sha256, config)
    return _with_derivation(_grader_failed(info, message, config, seed, wall_time_s), derivation)


def _grader_failed(submission: SubmissionInfo, message: str, config: GradingConfig, seed: int,
                   wall_time_s: float) -> GradeResult:
    """Every check failed with the reason, scored 0, and the result marked not gradable."""
    message = f"not gradable (the grader failed, not the submission): {message}"
    checks = score_checks(_failed_plan(config, message), config)
    return _finish(GradeResult(
        grader_version=__version__, assignment=config.assignment, config_hash=config.config_hash(),
        submission=submission, seed=seed, graded_at=utc_now(), gradable=False,
        failure=Failure(kind=FailureKind.GRADER, message=message), score=0.0,
        max_score=total(c.max_score for c in checks), checks=checks,
        timing=_untimed("not timed: the grader failed", config), wall_time_s=round(wall_time_s, 3),
    ))


def _path_info(path: Path) -> SubmissionInfo:
    """What can be said of a submission that was not loaded: its id, name, kind and file hash."""
    try:
        kind = kind_of(path)
    except (SubmissionError, UsageError):
        kind = "py"  # an unknown extension: reported in the message, recorded as a file
    return SubmissionInfo(id=submission_id_for(path.stem if path.is_file() else path.name), source_name=path.name,
                          kind=kind, sha256=_file_digest(path))


def unloadable_result(path: Path, error: SubmissionError, config: GradingConfig, seed: int) -> GradeResult:
    """The student's-fault result for a submission refused before any sandbox ran
    (for example too large to hand to a worker): zeros, with the reason, never a crash."""
    return _unloadable(Path(path), error, config, seed, time.monotonic())


def _unloadable(path: Path, error: SubmissionError, config, seed: int, started: float) -> GradeResult:
    message = str(error)
    checks = score_checks(_load_failed_plan(config, message, "the submission could not be loaded"), config)
    return _finish(GradeResult(
        grader_version=__version__, assignment=config.assignment, config_hash=config.config_hash(),
        submission=_path_info(path),
        seed=seed, graded_at=utc_now(), gradable=True, failure=Failure(kind=FailureKind.STUDENT, message=message),
        score=0.0, max_score=total(c.max_score for c in checks), checks=checks,
        timing=_untimed("not timed: the submission could not be loaded", config),
        wall_time_s=round(time.monotonic() - started, 3),
    ))


SCRATCH_LEFT = "the grader could not remove its scratch: "
"""Starts the failure message's line that says what a not gradable run left (GraderError.scratch_left)."""


def _not_gradable(loaded, error: GraderError, config, seed: int, started: float) -> GradeResult:
    message = str(error)
    if error.scratch_left:
        message += "\n" + SCRATCH_LEFT + "; ".join(error.scratch_left)
    return _grader_failed(_submission_info(loaded), message, config, seed, time.monotonic() - started)


def _file_digest(path: Path) -> str:
    """The submission's bytes when it is one file; for a folder that failed to load, its name."""
    source = path.read_bytes() if path.is_file() else path.name.encode()
    return hashlib.sha256(source).hexdigest()


def _finish(result: GradeResult) -> GradeResult:
    """Every result leaves through the published schema, with every string safe to write
    and to show (file names and loader messages too: grader.harness.text)."""
    document = clean_tree(result.model_dump(mode="json"))
    jsonschema.validate(document, result_schema())
    return GradeResult.model_validate(document)


_SCHEMA: dict | None = None


def result_schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = GradeResult.model_json_schema()
    return _SCHEMA
