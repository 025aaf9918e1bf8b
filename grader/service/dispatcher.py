"""From the job table to the executor and back.

Two threads share one ``grader.batch.executor.Executor`` (in-process Dask cluster, or a real
scheduler with ``--scheduler``):

- the submitter claims queued jobs (``db.claim``: queued -> running, with a claim token)
  as slots free up, and submits each as a GradingTask built from the stored bytes, unless
  the same student's same file was graded already by this grader version and
  configuration: then that grading is recorded again (``db.reuse_result``), and nothing runs;
- the collector takes each finished task from ``Executor.completed`` and writes its
  result and the `graded` status in one transaction (``db.record_result``), or puts a
  grader fault back in the queue, or marks it `failed` after MAX_ATTEMPTS.

Only jobs that are `running` under this process's claim are ever written, so a result
arriving for a job that was re-queued or regraded meanwhile is dropped, and a job is
graded once. A lost scheduler re-queues everything in flight; Dask reruns the tasks of a
worker that died. Nothing is kept only in Dask's memory: after a crash, ``requeue_running``
at the next start finds every job again.
"""

from __future__ import annotations

import io
import secrets
import tarfile
import tempfile
import threading
import time
import traceback
from pathlib import Path

from grader import __version__
from grader.grading.config import GradingConfig
from grader.batch.executor import MAX_ATTEMPTS, Executor, GradingTask, SchedulerLost, TaskDone, TaskFailed, task_for
from grader.grading.grade import content_seed, content_sha256
from grader.intake.load import submission_id_for
from grader.grading.result import GradeResult
from grader.service import db
from grader.service.store import ContentStore
from grader.sandbox.placement import NO_QUIET_WAIT

# Jobs handed to Dask beyond the free slots: enough that a slot never waits on the database,
# few enough that the queue order (and positions) stay the table's, not Dask's.
AHEAD_PER_SLOT = 1
SLOTS_TTL_S = 1.0
"""How long the cluster's slot count is reused: asking the scheduler costs a round trip each time."""
IDLE_CLAIM_S = 5.0
"""How often the submitter claims without being woken. Everything in this process that makes a
job claimable wakes it (a verdict, a result, a release, a regrade, a reconnect); this only
catches what does not (workers joining, a job table changed by another process), and each
claim is a write transaction that reads the whole queue, so it is not done twice a second."""


class Dispatcher:
    """The service's two threads between the job table and the executor (see the module
    doc): ``start``/``stop`` them; ``slots`` is how many gradings may run at once."""

    def __init__(self, engine, store: ContentStore, config: GradingConfig, open_executor, *, hide_paths=(),
                 log=print):
        self.engine = engine
        self.store = store
        self.config = config
        self.config_hash = config.config_hash()
        self.config_json = config.model_dump_json()  # once: every task carries the same
        self.open_executor = open_executor
        self.hide_paths = tuple(hide_paths)
        self.log = log
        self.claim_token = secrets.token_hex(8)  # this process's; a restarted server has another
        self.executor: Executor | None = None
        self.in_flight: dict = {}  # future -> (job id, attempt, student id)
        self._slots = (0.0, 0)  # (when asked, slots)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.submitted = threading.Event()
        self.stopping = threading.Event()
        self.version = 0  # bumped on every result written: the live page's signal
        self.changed = threading.Condition()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        requeued = db.requeue_running(self.engine)
        if requeued:
            self.log(f"re-queued {requeued} job(s) left running by an earlier server")
        self.executor = self.open_executor()
        for target in (self._submit_loop, self._collect_loop):
            thread = threading.Thread(target=target, name=f"convgrade-{target.__name__}", daemon=True)
            thread.start()
            self.threads.append(thread)
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.submitted.set()
        if self.executor is not None:
            with self.lock:
                futures = list(self.in_flight)
            self.executor.stop(futures, deadline_s=10)
            self.executor.close()
        for thread in self.threads:
            thread.join(timeout=10)
        with self.lock:  # what had no answer goes back to the queue for the next start
            for job_id, *_ in self.in_flight.values():
                db.release(self.engine, job_id, self.claim_token)
            self.in_flight.clear()

    def slots(self) -> int:
        asked, known = self._slots
        if time.monotonic() - asked < SLOTS_TTL_S:
            return known
        try:
            known = self.executor.slots() if self.executor is not None else 0
        except Exception:
            known = 0
        self._slots = (time.monotonic(), known)
        return known

    # -------------------------------------------------------------- submitting

    def _submit_loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(timeout=IDLE_CLAIM_S)
            self.wake.clear()
            if self.stopping.is_set():
                return
            try:
                with self.lock:
                    room = max(1, self.slots()) * (1 + AHEAD_PER_SLOT) - len(self.in_flight)
                for row in db.claim(self.engine, room, self.claim_token):
                    if db.reuse_result(self.engine, row, self.claim_token, __version__, self.config_hash):
                        self._changed()
                        self.wake.set()  # it took no slot: claim again
                    else:
                        self._submit(row)
            except Exception:
                self.log(f"dispatcher: {traceback.format_exc().rstrip()}")
                time.sleep(1)

    def _submit(self, row) -> None:
        try:
            task = self._task(row)
        except Exception as exc:  # the stored bytes cannot be handed over: a grader fault, retried
            reason = f"could not hand the submission to a worker: {type(exc).__name__}: {exc}"
            self.log(f"job {row.id}: {reason}")
            db.release(self.engine, row.id, self.claim_token,
                       failed_message=reason if row.attempts >= MAX_ATTEMPTS else None)
            self._changed()
            return
        with self.lock:
            self.in_flight[self.executor.submit(task)] = (row.id, row.attempts, row.student_id)
        self.submitted.set()

    def _task(self, row) -> GradingTask:
        data = self.store.get(row.sha256)
        placement = NO_QUIET_WAIT.hiding(*self.hide_paths)
        if row.content_sha256:  # hashed by its check (the loader's): nothing to load here
            seed, derivation = content_seed(row.content_sha256, self.config)
            return GradingTask(student_id=row.student_id, name=row.filename, payload=_one_file_tar(row.filename, data),
                               config_json=self.config_json, seed=seed, seed_derivation=derivation,
                               batch=self.executor.batch, attempt=row.attempts, placement=placement)
        with tempfile.TemporaryDirectory(prefix="convgrade-job-") as folder:  # a job checked before the hash was kept
            path = Path(folder) / row.filename
            path.write_bytes(data)
            digest = content_sha256(path)  # loads it, bounded, in a child
            seed, derivation = content_seed(digest, self.config)
            return task_for(row.student_id, path, self.config, seed, self.executor.batch, attempt=row.attempts,
                            seed_derivation=derivation, placement=placement)

    # -------------------------------------------------------------- collecting

    def _collect_loop(self) -> None:
        while not self.stopping.is_set():
            self.submitted.wait(timeout=0.5)
            self.submitted.clear()
            try:
                for future, outcome in self.executor.completed():
                    with self.lock:
                        job = self.in_flight.pop(future, None)
                    if job is not None:
                        self._record(*job, outcome)
                    if self.stopping.is_set():
                        return
            except SchedulerLost as exc:
                self._ride_out_outage(exc)
            except Exception:
                if self.stopping.is_set():
                    return
                self.log(f"collector: {traceback.format_exc().rstrip()}")
                time.sleep(1)

    def _ride_out_outage(self, error: SchedulerLost) -> None:
        with self.lock:
            lost = list(self.in_flight.values())
            self.in_flight.clear()
        for job_id, *_ in lost:  # nobody's fault: the same attempt again once it is back
            db.release(self.engine, job_id, self.claim_token)
        self.log(f"{error}: {len(lost)} job(s) re-queued; waiting for the scheduler")
        while not self.stopping.is_set() and not self.executor.reconnect(30):
            self.log("still waiting for the scheduler")
        self.wake.set()

    def _record(self, job_id: int, attempt: int, student_id: str, outcome: TaskDone | TaskFailed) -> None:
        """Like the batch's collect: a usable result is committed; a grader fault is retried,
        then recorded as `failed` (never a zero)."""
        result, reason = None, None
        if isinstance(outcome, TaskDone):
            try:
                result = GradeResult.model_validate_json(outcome.result_json)
                if result.submission.id != submission_id_for(student_id):
                    raise ValueError(f"the result is for {result.submission.id!r}")
                if not result.gradable:
                    reason = result.failure.message if result.failure else "not gradable"
            except ValueError as exc:
                reason = f"the worker's result is unusable: {type(exc).__name__}: {exc}"
        else:
            reason = outcome.message
        if reason is not None:
            if attempt < MAX_ATTEMPTS:
                self.log(f"job {job_id}: grader fault on attempt {attempt} of {MAX_ATTEMPTS}, retrying: "
                         f"{reason.splitlines()[0][:300]}")
                db.release(self.engine, job_id, self.claim_token)
            else:
                db.release(self.engine, job_id, self.claim_token,
                           failed_message=f"{reason} (after {attempt} attempts)")
        else:
            db.record_result(self.engine, job_id, self.claim_token, student_id, result.score, result.gradable,
                             result.model_dump_json())
        self._changed()
        self.wake.set()

    def _changed(self) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()


def _one_file_tar(name: str, data: bytes) -> bytes:
    """The task's payload for one stored file: a tar of it alone, as ``task_for`` packs a path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = len(data), 0o644, int(time.time())
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
