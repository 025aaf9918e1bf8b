"""Grade a whole class: every entry of a folder is one student.

    grade_all(submissions_dir, out_dir, sandbox_name=..., config=...) -> BatchSummary

    OUT/results/<id>.json            one GradeResult per student, written atomically as it finishes
    OUT/summary.json                 this run: counts, wall time, each student's status
    OUT/leaderboard.{json,md,html}   built from every result in OUT/results (skipped ones too)
    OUT/scores.csv                   the gradebook import (real ids, even on an anonymized board)
    OUT/canvas_gradebook.csv         with a Canvas roster export as the roster
    OUT/staff/pseudonyms.csv         with anonymize: who is who (mode 0600; never publish it)
    OUT/gradescope/<id>/results.json with output_format="gradescope", for each gradable result

Students: each entry of the folder (a .py, a folder, a .zip or an .ipynb) is one
student, whose id is ``grader.load.submission_id_for`` of its name. Hidden entries
(.DS_Store), tool debris (__MACOSX) and files of other kinds (a roster.csv) are
ignored and listed in the summary. Entries that share an id are refused, every such
conflict named at once. ``only`` regrades the listed students and rebuilds the outputs
from the stored results of everyone else.

Resuming: a student is skipped when the stored result has the same submission sha256
(found by loading, which runs nothing), grader version and config hash, and the same
seed when one is given. A stored not-gradable result is always retried: the grader,
not the student, failed.

Parallelism: gradings are tasks of a Dask cluster (``grader.executor``). By default an
in-process one: ``jobs`` single-threaded workers, one grading slot each, each pinned to its
own core for the whole grading, so a timing never shares a core with another grading
(``jobs`` is never more than the usable cores). With ``scheduler`` (tcp://host:port), the
workers of that cluster (``convgrade worker``) grade; the submission's bytes travel with
the task, and only this process writes results. A grader fault (a not-gradable result, a
task that raised, workers that kept dying under it) is retried up to MAX_ATTEMPTS times,
then recorded as not gradable. A lost scheduler is reported; the batch waits for it to
come back and resubmits what had no answer.

Interruption (Ctrl-C, SIGTERM): nothing new is started, this batch's running gradings are
killed on whichever worker runs them (the process backend's harness session, the docker
backend's container), what they half did is dropped, the results already written are
kept, the summary is written, and ``BatchInterrupted`` (a KeyboardInterrupt) is raised;
the CLI exits 130. A re-run resumes where the batch stopped. Leftovers of a batch killed
with SIGKILL: ``convgrade clean-containers`` (docker); the process backend's harnesses
finish their grading and exit, their report having nowhere to go.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import grader
from grader import __version__
from grader.class_outputs import OutputOptions, class_outputs, file_mode, with_pseudonym_note
from grader.config import GradingConfig
from grader.errors import SubmissionError, UsageError
from grader.executor import (MAX_ATTEMPTS, RECONNECT_TIMEOUT_S, Executor, SchedulerLost, TaskDone, TaskFailed,
                             pack)
from grader.gradebook import Roster, RosterStudent, load_roster, roster_warnings, submission_times
from grader.gradescope import to_gradescope
from grader.grade import (content_seed, content_sha256, grader_failure_result, submission_sha256,
                          unloadable_result)
from grader.harness.text import clean
from grader.harness.timing_lock import TimingLock
from grader.seeds import GIVEN
from grader.load import kind_of, submission_id_for
from grader.load_limits import SKIPPED_DIRS
from grader.result import GradeResult

OUTPUT_FORMATS = ("json", "gradescope")
RESULTS_DIR = "results"
GRADESCOPE_DIR = "gradescope"
# After an interruption, how long to keep killing gradings before giving up on them.
STOP_DEADLINE_S = 60.0

StudentStatus = Literal["graded", "not_gradable", "skipped", "interrupted", "not_started"]


class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted; ``summary`` (also written to OUT/summary.json) says what is done."""

    def __init__(self, summary: "BatchSummary"):
        super().__init__("batch interrupted")
        self.summary = summary


@dataclass(frozen=True)
class Student:
    id: str
    path: Path


@dataclass
class StudentOutcome:
    id: str
    source_name: str
    status: StudentStatus
    score: float | None = None
    max_score: float | None = None
    gradable: bool | None = None
    wall_time_s: float | None = None
    result: str | None = None
    """Path of the stored result, relative to the output folder."""
    message: str | None = None


@dataclass
class BatchSummary:
    out_dir: str
    submissions_dir: str
    sandbox: str
    jobs: int
    cores: list[int]
    config_hash: str
    started_at: str
    grader_version: str = __version__
    finished_at: str | None = None
    wall_time_s: float = 0.0
    interrupted: bool = False
    students: list[StudentOutcome] = field(default_factory=list)
    ignored_entries: list[dict[str, str]] = field(default_factory=list)
    orphan_results: list[str] = field(default_factory=list)
    """Ids with a stored result but no submission in the folder any more (still on the board)."""
    notes: list[str] = field(default_factory=list)
    leaderboard_counts: dict[str, int] | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in ("graded", "not_gradable", "skipped", "interrupted", "not_started")}
        for student in self.students:
            counts[student.status] += 1
        return {"students": len(self.students), **counts}

    def outcome(self, student_id: str) -> StudentOutcome:
        return next(student for student in self.students if student.id == student_id)

    def to_json(self) -> dict:
        document = asdict(self)
        document["counts"] = self.counts
        return document


# ----------------------------------------------------------------------- the batch


def grade_all(
    submissions_dir: Path,
    out_dir: Path,
    *,
    sandbox_name: str,
    config: GradingConfig,
    jobs: int | None = None,
    force: bool = False,
    roster: Path | dict[str, str] | Roster | None = None,
    anonymize: bool = False,
    anonymize_salt: str = "",
    output_format: str = "json",
    progress: bool = True,
    seed: int | None = None,
    exclusive_timing: bool = False,
    scheduler: str | None = None,
    only: list[str] | None = None,
    hide_unranked_scores: bool = False,
) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` into ``out_dir`` (see the module doc)."""
    started = time.monotonic()
    submissions_dir, out_dir = Path(submissions_dir), Path(out_dir)
    _check_output_options(output_format, anonymize, anonymize_salt)
    class_roster = _as_roster(roster)
    if scheduler and (jobs is not None or exclusive_timing):
        raise UsageError("--jobs and --exclusive-timing are for this machine; with --scheduler the workers "
                         "decide their slots (convgrade worker --slots N)")
    cores, notes = ([], []) if scheduler else choose_cores(jobs)
    students, ignored = discover_submissions(submissions_dir)
    only_ids = _only_ids(only, students)

    results_dir = out_dir / RESULTS_DIR
    results_dir.mkdir(parents=True, exist_ok=True)
    for leftover in results_dir.glob(".*.tmp"):  # a write cut short by a kill; never a result
        leftover.unlink(missing_ok=True)

    summary = BatchSummary(
        out_dir=str(out_dir), submissions_dir=str(submissions_dir), sandbox=sandbox_name, jobs=len(cores),
        cores=cores, config_hash=config.config_hash(), started_at=_now(),
        ignored_entries=[{"name": name, "reason": reason} for name, reason in ignored], notes=notes,
    )
    log = _Log(progress)
    for name, reason in ignored:
        log.message(f"ignoring {clean(name)}: {clean(reason)}")  # students' file names: escaped for the terminal
    for note in notes:
        log.warning(note)
    for warning in roster_warnings(class_roster, [student.id for student in students]):
        summary.notes.append(warning)
        log.warning(f"warning: {warning}")

    run = _Run(students, results_dir, scheduler, sandbox_name, config, cores, seed,
               hide_paths=_hideable((submissions_dir, out_dir) + ((Path(roster),) if isinstance(roster, (str, Path))
                                                                   else ())), log=log)
    with _signals_raise_keyboard_interrupt(), _timing_lock(len(cores) if exclusive_timing else 1) as lock:
        run.timing_lock = lock
        try:
            run.plan(force, only_ids)
            run.grade()
        except KeyboardInterrupt:
            summary.interrupted = True
            log.message("interrupted: running gradings were stopped; the results written are kept")
        finally:
            log.close()
        summary.students = [run.outcomes.get(s.id) or StudentOutcome(s.id, s.path.name, "not_started")
                            for s in students]
        if summary.interrupted:
            _finish_summary(summary, out_dir, started)
            raise BatchInterrupted(summary)

        publishing = OutputOptions(
            roster=class_roster, anonymize=anonymize, salt=anonymize_salt,
            submitted_at=submission_times({s.id: s.path for s in students}, class_roster),
            title=config.course.title, hide_unranked_scores=hide_unranked_scores,
            gradebook_column=config.course.gradebook_column)
        _publish(summary, out_dir, results_dir, {s.id for s in students}, publishing, output_format, log)
        _finish_summary(summary, out_dir, started)
    return summary


def _check_output_options(output_format: str, anonymize: bool, anonymize_salt: str) -> None:
    if output_format not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {output_format!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    if anonymize and not anonymize_salt:
        raise UsageError("anonymize needs a secret salt (--salt): without one, anyone with the class list "
                         "can hash the ids and recover who is who")


def _finish_summary(summary: BatchSummary, out_dir: Path, started: float) -> None:
    summary.finished_at = _now()
    summary.wall_time_s = round(time.monotonic() - started, 3)
    summary.outputs.append("summary.json")
    write_atomic(out_dir / "summary.json", json.dumps(summary.to_json(), indent=2) + "\n")


@contextlib.contextmanager
def _timing_lock(jobs: int):
    """With parallel gradings and --exclusive-timing, the folder of the lock that keeps
    every timing phase apart from any other grading's work (TimingLock); else None.

    Opt-in, measured with bench-batch on this 2-vCPU machine: it made --jobs 2 no faster
    than --jobs 1 (timing dominates a grading), while the 5-7% shifts it was meant to
    remove were no larger than the spread between two --jobs 1 runs."""
    if jobs < 2:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="convgrade-lock-") as folder:  # 0700: the host's own
        TimingLock.create_files(folder)
        yield Path(folder)


class _Run:
    """The grading part of a batch: what to grade, the worker slots, and stopping."""

    def __init__(self, students, results_dir, scheduler, sandbox_name, config, cores, seed, hide_paths, log):
        self.students: list[Student] = students
        self.results_dir: Path = results_dir
        self.scheduler: str | None = scheduler
        self.sandbox_name: str = sandbox_name
        self.config: GradingConfig = config
        self.cores: list[int] = cores
        self.seed: int | None = seed
        self.hide_paths: tuple[Path, ...] = hide_paths
        self.log: _Log = log
        self.timing_lock: Path | None = None
        self.outcomes: dict[str, StudentOutcome] = {}
        self.to_grade: list[Student] = []
        self.stop = threading.Event()
        self.futures: dict = {}

    def plan(self, force: bool, only: set[str] | None = None) -> None:
        """Who is graded: everyone changed (all with ``force``); with ``only``, exactly those
        students, whatever their stored result, and nobody else."""
        for student in self.students:
            if only is not None:
                if student.id in only:
                    self.to_grade.append(student)
                else:
                    stored = self._stored(student)
                    self.outcomes[student.id] = (_outcome(student, stored, "skipped") if stored is not None
                                                 else StudentOutcome(student.id, student.path.name, "not_started"))
                continue
            stored = None if force else self._stored(student)
            try:
                unchanged = stored is not None and self._up_to_date(stored, student)
            except Exception as exc:  # e.g. the file went away: grading it will record why
                self.log.message(f"{student.id}: cannot tell whether it changed ({type(exc).__name__}: {exc}); "
                                 "regrading")
                unchanged = False
            if unchanged:
                self.outcomes[student.id] = _outcome(student, stored, "skipped")
            else:
                self.to_grade.append(student)
        skipped = len(self.students) - len(self.to_grade)
        if only is not None:
            self.log.message(f"regrading only {', '.join(sorted(only))}; the other results are kept as stored")
        elif skipped:
            self.log.message(f"skipping {skipped} unchanged submission{'s' * (skipped != 1)} (already graded; "
                             "--force regrades)")

    def _stored(self, student: Student) -> GradeResult | None:
        path = self.results_dir / f"{student.id}.json"
        try:
            return GradeResult.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self.log.message(f"{path} is unreadable ({type(exc).__name__}); regrading {student.id}")
            return None

    def _up_to_date(self, stored: GradeResult, student: Student) -> bool:
        if not stored.gradable or stored.grader_version != __version__:
            return False
        if stored.config_hash != self.config.config_hash():
            return False
        if self.seed is not None and stored.seed != self.seed:
            return False
        digest = submission_sha256(student.path)
        if digest is None or digest != stored.submission.sha256:
            return False
        # Without --seed: the seed this file gets now (a changed course secret regrades).
        return self.seed is not None or stored.seed == content_seed(digest, self.config)[0]

    def grade(self) -> None:
        """Submit every grading to the executor, collect each as it finishes, retry grader
        faults (MAX_ATTEMPTS), and ride out a scheduler outage by resubmitting."""
        if not self.to_grade:
            return
        self.log.start(len(self.to_grade))
        executor = self.open_executor()
        self.futures: dict = {}
        try:
            if executor.slots() == 0:
                self.log.message(f"no worker has joined the scheduler at {executor.address} yet; waiting for one")
            for student in self.to_grade:
                self._submit(executor, student, 1)
            while self.futures:
                try:
                    for future, outcome in executor.completed():
                        student, attempt = self.futures.pop(future)
                        self._collect(executor, student, attempt, outcome)
                except SchedulerLost as exc:
                    self._ride_out_outage(executor, exc)
        except BaseException:
            self.stop.set()
            self._keep_finished(executor)
            executor.stop(list(self.futures), deadline_s=STOP_DEADLINE_S, log=self.log.message)
            for student, _ in self.futures.values():
                self.outcomes.setdefault(student.id, StudentOutcome(student.id, student.path.name, "interrupted"))
            raise
        finally:
            executor.close()

    def _keep_finished(self, executor: Executor) -> None:
        """On an interruption, record the gradings that finished but were not collected yet."""
        for future, (student, attempt) in list(self.futures.items()):
            if future.status != "finished":
                continue
            try:
                outcome = TaskDone(future.result(timeout=5))
            except BaseException:  # another Ctrl-C, or the result is out of reach: not kept
                continue
            self.futures.pop(future)
            with contextlib.suppress(Exception):
                self._collect(executor, student, attempt, outcome)

    def open_executor(self) -> Executor:
        if self.scheduler:
            return Executor.remote(self.scheduler)
        return Executor.local(self.cores, self.sandbox_name)

    def _submit(self, executor: Executor, student: Student, attempt: int) -> None:
        try:
            # The seed is chosen here: the course secret is this host's, and never travels.
            seed, derivation = ((self.seed, GIVEN) if self.seed is not None
                                else content_seed(content_sha256(student.path), self.config))
            task = pack(student.id, student.path, self.config, seed, executor.batch, attempt=attempt,
                        seed_derivation=derivation, hide_paths=self.hide_paths, timing_lock=self.timing_lock)
        except Exception as exc:  # one student's bytes must never stop the batch: recorded, not retried
            if isinstance(exc, SubmissionError):
                result = unloadable_result(student.path, exc, self.config, self.seed or 0)
            else:
                self.log.message(f"{student.id}: could not hand to a worker:\n{traceback.format_exc().rstrip()}")
                result = grader_failure_result(student.path, f"could not hand the submission to a worker: "
                                               f"{type(exc).__name__}: {exc}", self.config, self.seed)
            self._collect(executor, student, MAX_ATTEMPTS, TaskDone(result.model_dump_json()))
            return
        self.futures[executor.submit(task)] = (student, attempt)

    def _ride_out_outage(self, executor: Executor, error: SchedulerLost) -> None:
        in_flight = [student for student, _ in self.futures.values()]
        self.log.message(f"{error}: {len(in_flight)} grading(s) in flight have no answer; waiting up to "
                         f"{RECONNECT_TIMEOUT_S:g} s for the scheduler and a worker (Ctrl-C stops; a re-run resumes)")
        if not executor.reconnect(RECONNECT_TIMEOUT_S):
            raise SchedulerLost(f"{error}; it did not come back within {RECONNECT_TIMEOUT_S:g} s. "
                                "The results written are kept: re-run to resume")
        self.log.message(f"scheduler back; resubmitting {len(in_flight)} grading(s)")
        attempts = dict((student.id, attempt) for student, attempt in self.futures.values())
        self.futures = {}
        for student in in_flight:  # the outage was nobody's grading fault: the same attempt again
            self._submit(executor, student, attempts[student.id])

    def _collect(self, executor: Executor, student: Student, attempt: int, outcome: TaskDone | TaskFailed) -> None:
        """Record a finished grading once: its result written atomically, or a retry of a grader fault."""
        if student.id in self.outcomes:
            return  # already recorded: a result is written exactly once
        result = None
        if isinstance(outcome, TaskDone):
            try:
                result = GradeResult.model_validate_json(outcome.result_json)
                if result.submission.id != student.id:
                    raise ValueError(f"the result is for {result.submission.id!r}")
                reason = None if result.gradable else (result.failure.message if result.failure else "not gradable")
            except ValueError as exc:
                result, reason = None, f"the worker's result is unusable: {type(exc).__name__}: {exc}"
        else:
            reason = outcome.message
        if reason is not None and self.stop.is_set():
            return  # killed by the interruption: not the grader's verdict
        if reason is not None and attempt < MAX_ATTEMPTS:
            self.log.message(f"{student.id}: grader fault on attempt {attempt} of {MAX_ATTEMPTS}, retrying: "
                             f"{reason.splitlines()[0][:300]}")
            self._submit(executor, student, attempt + 1)
            return
        if result is None:
            result = grader_failure_result(student.path, f"{reason} (after {attempt} attempts)", self.config,
                                           self.seed)
        try:
            document = result.model_dump_json(indent=2) + "\n"
        except Exception as exc:  # the same guard: one unwritable result must not end the batch
            self.log.message(f"{student.id}: result not serialisable:\n{traceback.format_exc().rstrip()}")
            result = grader_failure_result(student.path, f"unexpected error: the result could not be written "
                                           f"({type(exc).__name__})", self.config, self.seed)
            document = result.model_dump_json(indent=2) + "\n"
        write_atomic(self.results_dir / f"{student.id}.json", document)
        self.outcomes[student.id] = _outcome(student, result, "graded" if result.gradable else "not_gradable")
        self.log.finished(student, self.outcomes[student.id], result)


def _outcome(student: Student, result: GradeResult, status: StudentStatus) -> StudentOutcome:
    return StudentOutcome(
        id=student.id, source_name=student.path.name, status=status, score=result.score,
        max_score=result.max_score, gradable=result.gradable, wall_time_s=result.wall_time_s,
        result=f"{RESULTS_DIR}/{student.id}.json",
        message=result.failure.message.splitlines()[0] if result.failure else None,
    )


# -------------------------------------------------------------------- the outputs


def _publish(summary: BatchSummary, out_dir: Path, results_dir: Path, current_ids: set[str],
             options: OutputOptions, output_format: str, log: "_Log", store_notes: bool = True) -> None:
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
    summary.leaderboard_counts = json.loads(outputs["leaderboard.json"])["counts"]


def _keep_pseudonym_note(result: GradeResult, options: OutputOptions, results_dir: Path | None) -> GradeResult:
    updated = with_pseudonym_note(result, options.salt if options.anonymize else None)
    if updated is not result and results_dir is not None:
        write_atomic(results_dir / f"{result.submission.id}.json", updated.model_dump_json(indent=2) + "\n")
    return updated


def rebuild_leaderboard(results_dir: Path, out_dir: Path, *, roster: Path | dict[str, str] | Roster | None = None,
                        anonymize: bool = False, anonymize_salt: str = "", output_format: str = "json",
                        progress: bool = True, config: GradingConfig | None = None,
                        hide_unranked_scores: bool = False) -> BatchSummary:
    """Every leaderboard output of ``grade_all`` (leaderboard.json/md/html, scores.csv, and
    gradescope/ with output_format="gradescope"), rebuilt into ``out_dir`` from stored
    results alone: ``results_dir`` is a batch's output folder or its results/ folder.
    Nothing is graded; nothing in results_dir is changed. ``config`` gives the course's
    title and Canvas column; submission times come from the roster's submitted_at."""
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    if (results_dir / RESULTS_DIR).is_dir():
        results_dir = results_dir / RESULTS_DIR
    if not results_dir.is_dir():
        raise UsageError(f"results folder not found: {results_dir}")
    _check_output_options(output_format, anonymize, anonymize_salt)
    class_roster = _as_roster(roster)
    course = (config or GradingConfig()).course
    log = _Log(progress)
    results = load_results(results_dir, log)
    for warning in roster_warnings(class_roster, [r.submission.id for r in results]):
        log.warning(f"warning: {warning}")
    times = {r.submission.id: s.submitted_at for r in results
             if (s := class_roster.find(r.submission.id)) is not None and s.submitted_at}
    options = OutputOptions(roster=class_roster, anonymize=anonymize, salt=anonymize_salt, submitted_at=times,
                            title=course.title, hide_unranked_scores=hide_unranked_scores,
                            gradebook_column=course.gradebook_column)
    summary = BatchSummary(out_dir=str(out_dir), submissions_dir="", sandbox="", jobs=0, cores=[],
                           config_hash="", started_at=_now())
    out_dir.mkdir(parents=True, exist_ok=True)
    _publish(summary, out_dir, results_dir, {r.submission.id for r in results}, options, output_format, log,
             store_notes=False)
    return summary


def load_results(results_dir: Path, log: "_Log | None" = None) -> list[GradeResult]:
    """Every stored result, by id; unreadable files are reported and left out."""
    results = []
    for path in sorted(results_dir.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            results.append(GradeResult.model_validate_json(path.read_bytes()))
        except (OSError, ValueError) as exc:
            if log:
                log.message(f"leaving {path} off the board: unreadable ({type(exc).__name__})")
    return results


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``path`` so that it is either the old file or the complete new one, even
    if the process is killed: a temp file in the same folder, fsync, rename, fsync folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# -------------------------------------------------------------- inputs and choices


def discover_submissions(folder: Path) -> tuple[list[Student], list[tuple[str, str]]]:
    """The students in ``folder``, by id, and the entries ignored with the reason."""
    if not folder.is_dir():
        raise UsageError(f"submissions folder not found: {folder}")
    students: dict[str, Student] = {}
    ignored: list[tuple[str, str]] = []
    conflicts: dict[str, list[str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda path: path.name):
        if entry.name.startswith("."):
            ignored.append((entry.name, "hidden entry"))
            continue
        if entry.name in SKIPPED_DIRS:
            ignored.append((entry.name, "tool or OS debris"))
            continue
        try:
            kind = kind_of(entry)
        except (SubmissionError, UsageError) as exc:
            ignored.append((entry.name, f"not a submission: {exc}"))
            continue
        student_id = submission_id_for(entry.name if kind == "folder" else entry.stem)
        if student_id in students:
            conflicts.setdefault(student_id, [students[student_id].path.name]).append(entry.name)
            continue
        students[student_id] = Student(student_id, entry)
    if conflicts:
        # Every conflict at once: a TA renames them all in one pass, not one per run.
        names_of = {student_id: [clean(name) for name in names] for student_id, names in conflicts.items()}
        lines = [f"{' and '.join(names)} all give the student id {student_id!r}" if len(names) > 2 else
                 f"{names[0]} and {names[1]} both give the student id {student_id!r}"
                 for student_id, names in sorted(names_of.items())]
        raise UsageError(f"{len(conflicts)} student id(s) given by more than one entry; rename all but one of "
                         "each:\n  " + "\n  ".join(lines))
    if not students:
        raise UsageError(f"no submissions in {folder} (expected .py files, folders, .zip or .ipynb files)")
    return sorted(students.values(), key=lambda student: student.id), ignored


def _as_roster(roster: Path | str | dict[str, str] | Roster | None) -> Roster:
    """A roster file (plain or Canvas, grader.gradebook), a Roster, or a plain id -> name mapping."""
    if isinstance(roster, Roster):
        return roster
    if isinstance(roster, (str, Path)):
        return load_roster(roster)
    students = [RosterStudent(id=submission_id_for(i), name=name) for i, name in (roster or {}).items()]
    return Roster("plain", students, "(given)") if students else Roster()


def _only_ids(only: list[str] | None, students: list[Student]) -> set[str] | None:
    """The ids of --only, checked before anything is graded: a typo must not regrade nobody."""
    if only is None:
        return None
    wanted = {submission_id_for(i.strip()) for item in only for i in item.split(",") if i.strip()}
    if not wanted:
        raise UsageError("--only needs at least one student id")
    known = {student.id for student in students}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(f"--only: no submission for {', '.join(unknown)} (ids are file names without the "
                         "extension, lower-cased)")
    return wanted


def choose_cores(jobs: int | None) -> tuple[list[int], list[str]]:
    """The cores the worker slots are pinned to, one each: the last ``jobs`` usable ones."""
    usable = sorted(os.sched_getaffinity(0))
    notes = []
    if jobs is None:
        jobs = len(usable)
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, got {jobs}")
    if jobs > len(usable):
        notes.append(f"--jobs {jobs} lowered to {len(usable)}, the usable cores: two gradings never share a core")
        jobs = len(usable)
    return usable[-jobs:], notes


def _hideable(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The paths the student must not see, except any that hold what the sandbox itself runs."""
    needed = [Path(os.path.realpath(p)) for p in (sys.executable, sys.prefix, sys.base_prefix,
                                                   os.path.dirname(grader.__file__), tempfile.gettempdir())]
    kept = []
    for path in paths:
        resolved = path.resolve()
        if not any(n == resolved or resolved in n.parents for n in needed):
            kept.append(resolved)
    return tuple(kept)


# ---------------------------------------------------------- stopping what runs


@contextlib.contextmanager
def _signals_raise_keyboard_interrupt():
    """SIGTERM stops the batch like Ctrl-C (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------ progress


class _Log:
    """A tqdm bar on a terminal; one plain line per finished student otherwise."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.bar = None
        self.total = 0
        self.done = 0
        self.failed = 0
        self.not_gradable = 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total = total
        if self.enabled and _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="student", dynamic_ncols=True)
            self.bar.set_postfix(failed=0, not_gradable=0)
        else:
            self.message(f"grading {total} submission{'s' * (total != 1)}")

    def warning(self, text: str) -> None:
        """Said on stderr even without progress output: something the user asked for was changed."""
        if self.enabled:
            self.message(text)
        else:
            print(text, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            if self.bar is not None:
                self.bar.write(text, file=self.stream)
            else:
                print(text, file=self.stream, flush=True)

    def finished(self, student: Student, outcome: StudentOutcome, result: GradeResult | None) -> None:
        self.done += 1
        if outcome.status == "not_gradable":
            self.not_gradable += 1
        elif result is not None and result.score < result.max_score:
            self.failed += 1
        if self.bar is not None:
            with self.lock:
                self.bar.update(1)
                self.bar.set_postfix(failed=self.failed, not_gradable=self.not_gradable)
            if outcome.status == "not_gradable":
                self.message(f"{student.id}: NOT GRADABLE: {outcome.message}")
        elif result is not None:
            self.message(f"[{self.done}/{self.total}] {result.summary_line()} ({result.wall_time_s:.1f} s)")
        else:
            self.message(f"[{self.done}/{self.total}] {student.id}: {outcome.status}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
