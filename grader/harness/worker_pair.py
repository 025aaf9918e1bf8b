"""The run's two workers: started, restarted after a student's crash, replaced by a
fresh pair for each timing block, and stopped; with what the student printed."""

from __future__ import annotations

from .call_messages import import_failure
from .deadline import Deadline
from .call_outcome import CallOutcome
from .workers import OutputCapture, WorkerProcess
from .workspace import Workspace

MAX_WORKER_RESTARTS = 12


class WorkerPair:
    """The student's and the reference's worker processes of one run, on its one core.

    ``student`` and ``reference`` are the current processes (replaced by ``fresh_pair``);
    ``events`` collects what the report says about restarts."""

    def __init__(self, workspace: Workspace, deadline: Deadline, events: list[str]):
        self.workspace, self.deadline, self.events = workspace, deadline, events
        self.student: WorkerProcess | None = None
        self.reference: WorkerProcess | None = None
        self.restarts = 0
        # Shared by every student worker of this run, restarts included.
        output_bytes = workspace.job.grading.limits.output_bytes
        self.student_output = (OutputCapture(output_bytes), OutputCapture(output_bytes))
        self.import_error = ""  # set when the student's module cannot be imported
        self.functions: dict[str, bool] = {}  # which student functions the module defines

    def start(self) -> None:
        """Both workers, first start: the student's import decides ``functions`` or
        ``import_error``; a reference that cannot start is the grader's failure."""
        self.student, ready = self._start_worker("student")
        if ready.ok:
            self.functions = dict(ready.ready.get("functions") or {})
        else:
            self.import_error = import_failure(ready, self.workspace.where.entry)
        self.reference, reference_ready = self._start_worker("reference")
        if not reference_ready.ok:
            raise RuntimeError(f"the reference worker failed to start: {reference_ready.error or reference_ready.message}")

    def _start_worker(self, role: str) -> tuple[WorkerProcess, CallOutcome]:
        captures = self.student_output if role == "student" else (None, None)
        worker = WorkerProcess(self.workspace.worker_spec(role), *captures)
        timeout = max(1.0, min(self.workspace.job.grading.limits.import_timeout_s, self.deadline.time_left()))
        return worker, worker.start(timeout)

    def ensure_student(self) -> bool:
        """Restart the student worker after a crash or timeout, so one failure fails one check."""
        if self.student is not None and self.student.alive:
            return True
        if self.import_error or self.restarts >= MAX_WORKER_RESTARTS or self.deadline.time_left() <= 0:
            return False  # a module that hung or crashed at import would only do it again
        self.restarts += 1
        if self.student is not None:
            self.student.stop()
            self.events.append("student worker restarted")
        self.student, outcome = self._start_worker("student")
        if not outcome.ok and outcome.message.startswith("could not be started"):
            self.events.append(f"student worker {outcome.message}")
        return outcome.ok

    def forget(self, slots: list[str]) -> None:
        """Drop what the student's worker keeps in ``slots`` (if it is still there)."""
        if self.student is not None and self.student.alive:
            self.student.forget(slots)

    def fresh_pair(self) -> bool:
        """New student and reference workers for the next timing block: the spread between
        processes (where their memory landed, what they ran before) is part of a figure's
        uncertainty, and only fresh processes show it."""
        self.stop()
        self.student, ready = self._start_worker("student")
        self.reference, reference_ready = self._start_worker("reference")
        if not reference_ready.ok:
            raise RuntimeError(f"the reference worker failed to restart: {reference_ready.error or reference_ready.message}")
        return ready.ok

    def stop(self) -> None:
        for worker in (self.student, self.reference):
            if worker is not None:
                worker.stop()

    def clock_description(self) -> str:
        how = ("the worker process's CPU time (kernel accounting, read by the harness while the worker is "
               "stopped), less the fixed cost of a call (call_overhead_s)")
        if not (self.student and self.student.direct_reads and self.reference and self.reference.direct_reads):
            how += "; outputs copied into shared memory by the worker, on its clock"
        return how

    def student_output_text(self) -> str:
        parts = [("stdout", self.student_output[0].text()), ("stderr", self.student_output[1].text())]
        return "\n".join(f"--- {name} ---\n{text}" for name, text in parts if text)
