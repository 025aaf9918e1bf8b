"""One grading inside the sandbox: set up scratch space and the two workers, run the
correctness checks, time student against reference, and build the report.

The harness is the only process here that holds expected answers, the seed, timings
and the report; the student's code runs only in the student worker. ``Run`` conducts;
each job has its module: workspace (scratch, uids, root, confinement), worker_pair
(starting and restarting the workers), checking (the checks), timing_phase and trials
(the timing), profiling (line profiles), call_messages (what a failed call says).

A bundle (assignments.bundle) is graded as its layers: each layer's pack runs its own
checks (layer_checks) and, where the layer is timed, its own timing phase, all in the
one worker pair; the report namespaces each layer's checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import assignments, student_packages
from .assignments.bundle import bundle_call, namespaced
from .checking import Checker
from .layer_checks import LayerChecker
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


@dataclass
class GradedLayer:
    """One pack of this grading: the assignment's own (``key`` None), or a bundle's layer
    (its checks reported under ``key``), with its checker and whether it is timed."""

    key: str | None
    pack: object
    checker: Checker
    timed: bool


class Run:
    def __init__(self, job: HarnessJob):
        self.job = job
        grading = job.grading
        self.deadline = Deadline(grading.limits)
        self.pack = assignments.get(grading.assignment)  # everything the assignment declares
        assignments.configure(self.pack, dict(grading.pack_settings))  # the course's choices (dropout's p)
        self.events: list[str] = []
        self.workspace = Workspace(job, self.pack, worker_packages(self.pack, list(grading.packages)))
        self.workers = WorkerPair(self.workspace, self.deadline, self.events)
        common = (self.workers, self.deadline)
        rest = (job.sandbox.entry, grading.limits.memory_bytes, list(grading.forbidden_modules))
        if assignments.is_bundle(self.pack):
            self.layers = [GradedLayer(layer.key, layer.pack, LayerChecker(
                layer.pack, *common, float(grading.layers[layer.key]["tolerance"]), *rest),
                bool(grading.layers[layer.key]["timed"])) for layer in self.pack.layers]
        else:
            self.layers = [GradedLayer(None, self.pack, Checker(self.pack, *common, float(grading.tolerance), *rest),
                                       True)]

    def execute(self) -> dict:
        timing_lock = TimingLock(self.job.sandbox.timing_lock)
        sandboxing = self.workspace.prepare()
        other_cores = OtherCores({sandboxing.cpu} if sandboxing.cpu is not None else None)
        phases = [(layer, TimingPhase(self.job, layer.pack, self.workers, self.deadline, other_cores,
                                      self.workspace.reference_root, self._cached_machine(layer),
                                      layer.checker.tolerance))
                  for layer in self.layers if layer.timed]
        timing: list[dict] = []
        profiles: list[dict] = []
        seed = self.job.grading.seed
        try:
            self.check_all(timing_lock, seed)
            for layer, timing_phase in phases:  # one timing phase per timed layer, in the bundle's order
                if self.workers.import_error:
                    untimed = timing_phase.untimed("not timed: the module could not be imported")
                    timing += self._as_reported(layer, untimed)
                    continue
                passed = {fn: layer.checker.passed(fn) for fn in timing_phase.calls}
                with timing_lock.exclusive():
                    rows = timing_phase.time_functions(passed, seed)
                profiler = Profiler(layer.pack, self.workers, self.deadline, self.events)
                layer_profiles = profiler.profile_functions(rows, seed, self.job.grading.timing.size,
                                                            timing_phase.kept_for_profile)
                timing_phase.kept_for_profile = None  # forgotten by the profiler: let go of its case too
                timing += self._as_reported(layer, rows)
                profiles += self._as_reported(layer, layer_profiles, "function")
        finally:
            self.workers.stop()
            self.workspace.close()
        shortage = self.workspace.disk_budget.shortage() if self.workspace.disk_budget is not None else None
        if shortage is not None:
            raise shortage
        return self._report(sandboxing, timing, profiles, self._machine_report(phases))

    def _cached_machine(self, layer: GradedLayer) -> dict | None:
        """The host's cached machine entry for this layer: a bundle's come by pack name (each
        layer's are its pack's own figures, shared with the pack graded alone)."""
        cached = self.job.machine.cached
        if layer.key is None:
            return cached
        return (cached or {}).get(layer.pack.NAME)

    def _machine_report(self, phases: list) -> dict | None:
        """Where the machine figures came from, and what was measured here for the host's
        cache: a single pack's entry, or a bundle's by pack name ("layers")."""
        reports = [(layer, phase.machine_report) for layer, phase in phases if phase.machine_report is not None]
        if not assignments.is_bundle(self.pack):
            return reports[0][1] if reports else None
        if not reports:
            return None
        return {"source": reports[0][1]["source"], "measured": None,
                "layers": {layer.pack.NAME: report["measured"] for layer, report in reports if report["measured"]}}

    def check_all(self, timing_lock: TimingLock, seed: int) -> None:
        """Start both workers and run every correctness check, layer by layer."""
        self.workers.start()
        for layer in self.layers:
            cases = layer.pack.notebook_cases() + layer.pack.hidden_cases(seed, self.job.grading.hidden_cases)
            for case in cases:
                with timing_lock.shared():  # per case: another grading's timing waits one case at most
                    layer.checker.check_case(case)
            layer.checker.inputs_check()
            if isinstance(layer.checker, LayerChecker):
                layer.checker.stub_messages()

    @staticmethod
    def _as_reported(layer: GradedLayer, rows: list[dict], field: str = "call") -> list[dict]:
        """A bundle layer's timing rows, line profiles or evidence, their call under the
        bundle's name for it ("<layer>/forward"), as its checks have it (bundle.namespaced)."""
        if layer.key is None:
            return rows
        return [{**row, field: bundle_call(layer.key, row[field])} if row[field] not in ("module", "all") else row
                for row in rows]

    def _records(self) -> list[dict]:
        """Every layer's check records, a bundle's under their layer's key."""
        return [c.as_json() if layer.key is None else namespaced(c.as_json(), layer.key)
                for layer in self.layers for c in layer.checker.records]

    def _report(self, sandboxing: Sandboxing, timing: list[dict], profiles: list[dict],
                machine_report: dict | None) -> dict:
        budget = ReportBudget(STUDENT_TEXT_BUDGET)
        checks = [dict(c, message=budget.take(c["message"], MESSAGE_BYTES)) for c in self._records()]
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
            "observed_forbidden": [seen for layer in self.layers for seen in
                                   self._as_reported(layer, list(layer.checker.observed.values()), "function")],
            "student_output": budget.take(self.workers.student_output_text(), STUDENT_TEXT_BUDGET),
            "events": self.events,
            "sandboxing": sandboxing.__dict__,
            "environment": environment(),
            "machine": machine_report,
        }
