"""The grading part of a batch: who is graded, handing each to the executor, collecting
each result once (retrying grader faults), riding out a scheduler outage, and stopping.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from pathlib import Path

from grader import __version__
from grader.atomic_write import write_atomic
from grader.batch.progress import BatchLog
from grader.batch.summary import StudentOutcome, outcome_of
from grader.intake.class_folder import Student
from grader.grading.config import GradingConfig
from grader.errors import SubmissionError
from grader.batch.executor import MAX_ATTEMPTS, RECONNECT_TIMEOUT_S, Executor, SchedulerLost, TaskDone, TaskFailed, task_for
from grader.grading.grade import content_seed, content_sha256, grader_failure_result, submission_sha256, unloadable_result
from grader.grading.result import GradeResult
from grader.grading.seeds import GIVEN
from grader.sandbox.placement import NO_QUIET_WAIT

# After an interruption, how long to keep killing gradings before giving up on them.
STOP_DEADLINE_S = 60.0


class BatchRun:
    """The grading part of a batch: what to grade, the worker slots, and stopping."""

    def __init__(self, students, results_dir, scheduler, sandbox_name, config, cores, seed, hide_paths, log):
        self.students: list[Student] = students
        self.results_dir: Path = results_dir
        self.scheduler: str | None = scheduler
        self.sandbox_name: str = sandbox_name
        self.config: GradingConfig = config
        self.cores: list[int] = cores
        self.seed: int | None = seed
        self.log: BatchLog = log
        # The batch's lock and quiet wait are set once the lock is taken (grade_all).
        self.placement = NO_QUIET_WAIT.hiding(*hide_paths)
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
                    self.outcomes[student.id] = (outcome_of(student, stored, "skipped") if stored is not None
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
                self.outcomes[student.id] = outcome_of(student, stored, "skipped")
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
        digest = submission_sha256(student.path, self.config)
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
                                else content_seed(content_sha256(student.path, self.config), self.config))
            task = task_for(student.id, student.path, self.config, seed, executor.batch, attempt=attempt,
                            seed_derivation=derivation, placement=self.placement)
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
        self.outcomes[student.id] = outcome_of(student, result, "graded" if result.gradable else "not_gradable")
        self.log.finished(student, self.outcomes[student.id], result)
