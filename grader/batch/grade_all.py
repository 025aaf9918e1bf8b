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
student, whose id is ``grader.intake.load.submission_id_for`` of its name. Hidden entries
(.DS_Store), tool debris (__MACOSX) and files of other kinds (a roster.csv) are
ignored and listed in the summary. Entries that share an id are refused, every such
conflict named at once. ``only`` regrades the listed students and rebuilds the outputs
from the stored results of everyone else.

Resuming: a student is skipped when the stored result has the same submission sha256
(found by loading, which runs nothing), grader version and config hash, and the same
seed when one is given. A stored not-gradable result is always retried: the grader,
not the student, failed.

Parallelism: gradings are tasks of a Dask cluster (``grader.batch.executor``). By default an
in-process one: ``jobs`` single-threaded workers, one grading slot each, each pinned to its
own core for the whole grading, so a timing never shares a core with another grading
(``jobs`` is never more than the usable cores). With ``scheduler`` (tcp://host:port), the
workers of that cluster (``convgrade worker``) grade; the submission's bytes travel with
the task, and only this process writes results. A grader fault (a not-gradable result, a
task that raised, workers that kept dying under it) is retried up to MAX_ATTEMPTS times,
then recorded as not gradable. A lost scheduler is reported; the batch waits for it to
come back and resubmits what had no answer.

Interruption (Ctrl-C, SIGTERM): nothing new is started, this batch's running gradings are
killed on whichever worker runs them (``Sandbox.cancel``: the process backend's harness
session, the docker backend's container), what they half did is dropped, the results already written are
kept, the summary is written, and ``BatchInterrupted`` (a KeyboardInterrupt) is raised;
the CLI exits 130. A re-run resumes where the batch stopped. Leftovers of a batch killed
with SIGKILL: ``convgrade clean-containers`` (docker); the process backend's harnesses
finish their grading and exit, their report having nowhere to go.

This module holds the two entry points and the host's choices (cores, paths to hide, the
timing lock, signals). The parts: the students of the folder (``intake.class_folder``), the
grading run (``batch_run``), its progress line (``batch_progress``), what it did
(``batch_summary``), the published outputs (``batch_outputs``), and whole-file writes
(``atomic_write``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from grader.atomic_write import write_atomic
from grader.batch.outputs import load_results, publish_outputs
from grader.batch.progress import BatchLog
from grader.batch.executor import choose_cores, hideable
from grader.batch.run import BatchRun
from grader.batch.summary import RESULTS_DIR, BatchInterrupted, BatchSummary, StudentOutcome, scratch_left_note
from grader.publish.class_outputs import OutputOptions
from grader.publish.finals import FINALS_FILE, FINALS_PAGE, Finals, load_finals
from grader.intake.class_folder import checked_only_ids, discover_submissions
from grader.grading.clock import utc_now
from grader.grading.config import GradingConfig
from grader.errors import UsageError
from grader.intake.roster import Roster, RosterStudent, load_roster, roster_warnings, submission_times
from grader.harness.contention import QUIET_WAIT_S
from grader.harness.text import clean
from grader.harness.timing_lock import TimingLock
from grader.intake.load import submission_id_for

OUTPUT_FORMATS = ("json", "gradescope")


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
    """Grade every submission in ``submissions_dir`` into ``out_dir`` (see the module doc).

    Over 60 lines on purpose: it is the batch's one sequence read top to bottom (options,
    cores, students, the log, the run under its timing lock, the outputs); the steps are
    BatchRun's, publish_outputs' and _finish_summary's."""
    started = time.monotonic()
    submissions_dir, out_dir = Path(submissions_dir), Path(out_dir)
    _check_output_options(output_format, anonymize, anonymize_salt)
    class_roster = _as_roster(roster)
    if scheduler and (jobs is not None or exclusive_timing):
        raise UsageError("--jobs and --exclusive-timing are for this machine; with --scheduler the workers "
                         "decide their slots (convgrade worker --slots N)")
    cores, notes = ([], []) if scheduler else choose_cores(jobs)
    students, ignored = discover_submissions(submissions_dir)
    only_ids = checked_only_ids(only, students)

    results_dir = out_dir / RESULTS_DIR
    results_dir.mkdir(parents=True, exist_ok=True)
    for leftover in results_dir.glob(".*.tmp"):  # a write cut short by a kill; never a result
        leftover.unlink(missing_ok=True)

    summary = BatchSummary(
        out_dir=str(out_dir), submissions_dir=str(submissions_dir), sandbox=sandbox_name, jobs=len(cores),
        cores=cores, config_hash=config.config_hash(), started_at=utc_now(),
        ignored_entries=[{"name": name, "reason": reason} for name, reason in ignored], notes=notes,
    )
    log = BatchLog(progress)
    for name, reason in ignored:
        log.message(f"ignoring {clean(name)}: {clean(reason)}")  # students' file names: escaped for the terminal
    for note in notes:
        log.warning(note)
    for warning in roster_warnings(class_roster, [student.id for student in students]):
        summary.notes.append(warning)
        log.warning(f"warning: {warning}")

    run = BatchRun(students, results_dir, scheduler, sandbox_name, config, cores, seed,
               hide_paths=hideable((submissions_dir, out_dir) + ((Path(roster),) if isinstance(roster, (str, Path))
                                                                   else ())), log=log)
    with _signals_raise_keyboard_interrupt(), _timing_lock(len(cores) if exclusive_timing else 1) as lock:
        run.placement = replace(run.placement, timing_lock=lock,
                                quiet_wait_s=quiet_wait_for(scheduler, len(cores), lock is not None))
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
        left_note = scratch_left_note(summary.students)
        if left_note:
            summary.notes.append(left_note)
            log.warning(f"warning: {left_note}")
        if summary.interrupted:
            _finish_summary(summary, out_dir, started)
            raise BatchInterrupted(summary)

        publishing = OutputOptions(
            roster=class_roster, anonymize=anonymize, salt=anonymize_salt,
            submitted_at=submission_times({s.id: s.path for s in students}, class_roster),
            title=config.course.title, hide_unranked_scores=hide_unranked_scores,
            gradebook_column=config.course.gradebook_column, rank_by=config.course.rank_by,
            finals=finals_beside(log, out_dir), finals_page=finals_page_beside(out_dir))
        publish_outputs(summary, out_dir, results_dir, {s.id for s in students}, publishing, output_format, log)
        _finish_summary(summary, out_dir, started)
    return summary


def _check_output_options(output_format: str, anonymize: bool, anonymize_salt: str) -> None:
    if output_format not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {output_format!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    if anonymize and not anonymize_salt:
        raise UsageError("anonymize needs a secret salt (--salt): without one, anyone with the class list "
                         "can hash the ids and recover who is who")


def _finish_summary(summary: BatchSummary, out_dir: Path, started: float) -> None:
    summary.finished_at = utc_now()
    summary.wall_time_s = round(time.monotonic() - started, 3)
    summary.outputs.append("summary.json")
    write_atomic(out_dir / "summary.json", json.dumps(summary.to_json(), indent=2) + "\n")


def quiet_wait_for(scheduler: str | None, jobs: int, exclusive_timing: bool) -> float:
    """How long a batch's grading may wait for the host's other cores to go quiet before
    timing (harness.contention). Alone on this host's cores (one job, or every other
    grading paused while one is timed) a grading waits out a passing neighbour; with
    parallel gradings the neighbour is the batch itself and waiting cannot help, and a
    scheduler's workers may share their hosts with anything, so there nobody waits and
    a busy machine is only marked in the result."""
    return QUIET_WAIT_S if not scheduler and (jobs == 1 or exclusive_timing) else 0.0


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
    log = BatchLog(progress)
    results = load_results(results_dir, log)
    for warning in roster_warnings(class_roster, [r.submission.id for r in results]):
        log.warning(f"warning: {warning}")
    times = {r.submission.id: s.submitted_at for r in results
             if (s := class_roster.find(r.submission.id)) is not None and s.submitted_at}
    options = OutputOptions(roster=class_roster, anonymize=anonymize, salt=anonymize_salt, submitted_at=times,
                            title=course.title, hide_unranked_scores=hide_unranked_scores,
                            gradebook_column=course.gradebook_column, rank_by=course.rank_by,
                            finals=finals_beside(log, out_dir, results_dir.parent),
                            finals_page=finals_page_beside(out_dir))
    summary = BatchSummary(out_dir=str(out_dir), submissions_dir="", sandbox="", jobs=0, cores=[],
                           config_hash="", started_at=utc_now())
    out_dir.mkdir(parents=True, exist_ok=True)
    publish_outputs(summary, out_dir, results_dir, {r.submission.id for r in results}, options, output_format, log,
             store_notes=False)
    return summary


def finals_page_beside(out_dir: Path) -> str | None:
    """The board's link to the finals page: only when finals.html sits beside the board (finals
    found in the batch folder while the board goes to another --out would be a broken link)."""
    return FINALS_PAGE if (Path(out_dir) / FINALS_PAGE).is_file() else None


def finals_beside(log: BatchLog, *folders: Path) -> Finals | None:
    """The class's finals (``convgrade finals``) in the first of ``folders`` that has them:
    the board marks the finalists and takes their order from them. An unreadable
    finals.json is reported and left out, never a reason not to publish the board."""
    try:
        return load_finals(*folders)
    except (OSError, ValueError) as exc:
        log.warning(f"warning: leaving the finals off the board: {FINALS_FILE} is unreadable ({type(exc).__name__})")
        return None


# -------------------------------------------------------------- inputs and choices


def _as_roster(roster: Path | str | dict[str, str] | Roster | None) -> Roster:
    """A roster file (plain or Canvas, grader.publish.gradebook), a Roster, or a plain id -> name mapping."""
    if isinstance(roster, Roster):
        return roster
    if isinstance(roster, (str, Path)):
        return load_roster(roster)
    students = [RosterStudent(id=submission_id_for(i), name=name) for i, name in (roster or {}).items()]
    return Roster("plain", students, "(given)") if students else Roster()


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
