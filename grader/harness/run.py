"""One grading inside the sandbox: set up scratch space and the two workers, run the
correctness checks, time student against reference, and build the report.

The harness is the only process here that holds expected answers, the seed, timings
and the report; the student's code runs only in the student worker. ``Run`` conducts;
each job has its module: workspace (scratch, uids, root, confinement), worker_pair
(starting and restarting the workers), checking (the checks), timing_phase and trials
(the timing), profiling (line profiles), call_messages (what a failed call says).
"""

from __future__ import annotations

from . import assignments, student_packages
from .checking import Checker
from .contention import OtherCores
from .deadline import Deadline
from .environment import environment
from .job import HarnessJob
from .profiling import Profiler
from .text import ReportBudget
from .timing_lock import TimingLock
from .timing_phase import TimingPhase
from .worker_pair import WorkerPair
from .workspace import Sandboxing, Workspace

# Everything a student can put into the report (messages, output, reasons), in JSON
# bytes: well inside the host's 4 MiB report cap whatever the text is made of.
STUDENT_TEXT_BUDGET = 2 * 1024 * 1024
MESSAGE_BYTES = 16 * 1024


def worker_packages(pack, course_packages: list[str]) -> dict[str, student_packages.Resolved]:
    """What each worker may import (student_packages): both numpy and the pack's packages, the
    student also the course's (the configuration's `packages`); both the worker's own
    helpers, in a view of their own."""
    missing = assignments.missing_packages(pack)
    if missing:
        raise RuntimeError(f"{pack.NAME} needs {', '.join(missing)} in the grading environment; "
                           f"install it (the Docker image installs every pack's packages)")
    pack_packages = list(pack.SANDBOX_PACKAGES)
    packages = {"student": student_packages.for_student([*pack_packages, *course_packages]),
                "reference": student_packages.for_student(pack_packages),
                "worker": student_packages.resolve(student_packages.WORKER_ONLY)}
    for role in ("student", "reference"):
        if packages[role].missing:
            raise RuntimeError(f"the configuration lets the {role}'s code import "
                               f"{', '.join(packages[role].missing)}, which the grading environment does not "
                               f"have: install it where the harness runs, or take it out of `packages`")
    return packages


class Run:
    def __init__(self, job: HarnessJob):
        self.job = job
        grading = job.grading
        self.deadline = Deadline(grading.limits)
        self.pack = assignments.get(grading.assignment)  # everything the assignment declares
        self.events: list[str] = []
        self.workspace = Workspace(job, self.pack, worker_packages(self.pack, list(grading.packages)))
        self.workers = WorkerPair(self.workspace, self.deadline, self.events)
        self.checker = Checker(self.pack, self.workers, self.deadline, float(grading.tolerance), job.sandbox.entry,
                               grading.limits.memory_bytes, list(grading.forbidden_modules))

    def execute(self) -> dict:
        timing_lock = TimingLock(self.job.sandbox.timing_lock)
        sandboxing = self.workspace.prepare()
        other_cores = OtherCores({sandboxing.cpu} if sandboxing.cpu is not None else None)
        timing_phase = TimingPhase(self.job, self.pack, self.workers, self.deadline, other_cores,
                                   self.workspace.reference_root)
        profiles: list[dict] = []
        seed = self.job.grading.seed
        try:
            self.check_all(timing_lock, seed)
            if self.workers.import_error:
                timing = timing_phase.untimed("not timed: the module could not be imported")
            else:
                passed = {fn: self.checker.passed(fn) for fn in timing_phase.calls}
                with timing_lock.exclusive():
                    timing = timing_phase.time_functions(passed, seed)
                profiler = Profiler(self.pack, self.workers, self.deadline, self.events)
                profiles = profiler.profile_functions(timing, seed, self.job.grading.timing.size)
        finally:
            self.workers.stop()
            self.workspace.close()
        shortage = self.workspace.disk_budget.shortage() if self.workspace.disk_budget is not None else None
        if shortage is not None:
            raise shortage
        return self._report(sandboxing, timing, profiles, timing_phase.machine_report)

    def check_all(self, timing_lock: TimingLock, seed: int) -> None:
        """Start both workers and run every correctness check."""
        self.workers.start()
        for case in self.pack.notebook_cases() + self.pack.hidden_cases(seed, self.job.grading.hidden_cases):
            with timing_lock.shared():  # per case: another grading's timing waits one case at most
                self.checker.check_case(case)
        self.checker.inputs_check()

    def _report(self, sandboxing: Sandboxing, timing: list[dict], profiles: list[dict],
                machine_report: dict | None) -> dict:
        budget = ReportBudget(STUDENT_TEXT_BUDGET)
        checks = [dict(c.as_json(), message=budget.take(c.message, MESSAGE_BYTES)) for c in self.checker.records]
        for row in timing:
            if row.get("reason"):
                row["reason"] = budget.take(row["reason"], MESSAGE_BYTES)
        import_error = self.workers.import_error
        return {
            "assignment": self.pack.NAME,
            "seed": self.job.grading.seed,
            "import": {"ok": not import_error, "message": budget.take(import_error, MESSAGE_BYTES),
                       "functions": self.workers.functions},
            "checks": checks,
            "timing": timing,
            "line_profiles": profiles,
            "observed_forbidden": list(self.checker.observed.values()),
            "student_output": budget.take(self.workers.student_output_text(), STUDENT_TEXT_BUDGET),
            "events": self.events,
            "sandboxing": sandboxing.__dict__,
            "environment": environment(),
            "machine": machine_report,
        }
