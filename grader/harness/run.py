"""One grading inside the sandbox: set up scratch space and the two workers, run the
correctness checks, time student against reference, and build the report.

The harness is the only process here that holds expected answers, the seed, timings
and the report; the student's code runs only in the student worker.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from . import (assignments, disk_cap, isolation, landlock, lockdown, runtime_copy, seccomp, speed_feedback,
               student_packages, tree_removal)
from .text import ReportBudget
from .checks import compare
from .lockdown import (DEVICES, SYSTEM_DIRS, WorkerLimits, build_worker_root, cover_shared_dirs, hide_path,
                       isolate_namespaces, mount_scratch, private_proc)
from .contention import OtherCores, QuietWait, contended
from .timing import (REWARM_LIMIT_S, TimingPlan, TrialBudget, clock_ns, describe_plan, next_run, run_length,
                     steady_allocator, summarize_blocks)
from .timing_lock import TimingLock
from .workers import WORKER_FILES, CallOutcome, OutputCapture, WorkerProcess, WorkerSpec

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
MAX_WORKER_RESTARTS = 12
# Everything a student can put into the report (messages, output, reasons), in JSON
# bytes: well inside the host's 4 MiB report cap whatever the text is made of.
STUDENT_TEXT_BUDGET = 2 * 1024 * 1024
MESSAGE_BYTES = 16 * 1024


@dataclass
class CheckRecord:
    id: str
    name: str
    function: str
    group: str
    passed: bool
    message: str

    def as_json(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Sandboxing:
    """What protection this run actually has, reported so nobody assumes more."""

    private_uids: bool
    namespaces: bool
    cpu: int | None
    pid_namespace: bool = False  # the harness is process 1 of its own PID namespace (or a container's)
    seccomp: str = ""  # what the workers' system-call filter denies ("" when none)
    notes: list[str] = field(default_factory=list)  # what this run lacked
    isolation: dict = field(default_factory=dict)  # isolation.Isolation: the rung, what it has and lacks


def _describe_failure(outcome: CallOutcome, function_name: str, memory_bytes: int, where: str = "") -> str:
    """A message for a call that produced no usable result.

    ``where`` names the case ('at pad 0, stride 1 (x (...), w (...))'): a call that
    raised or crashed is as much tied to its shapes as a wrong answer is, and the
    shapes are what tells a student which bug it is (an empty dx at pad 0 raises
    "could not broadcast ... (3,0,0)" in the next line of their code).
    """
    at = f" {where}" if where else ""
    if outcome.status == "raised":
        error = outcome.error or {}
        kind, text = error.get("type", "Exception"), error.get("message", "")
        if kind == "MemoryError" or "Unable to allocate" in text:
            return (f"memory limit of {memory_bytes / 2**30:g} GiB exceeded in {function_name}{at} "
                    f"({kind}: {text[:300]})")
        if kind == "SystemExit":
            return f"{function_name} called sys.exit({text}){at}; return the results instead"
        hint = ""
        if "can't start new thread" in text or kind == "BlockingIOError" or "multiprocessing" in error.get("traceback", ""):
            hint = " (the grader runs your code as one process: threads and child processes are refused)"
        first_line, newline, rest = text[:500].partition("\n")  # the case ends the message's first line
        return (f"{function_name} raised {kind}: {first_line}{hint}{at}{newline}{rest}\n"
                f"{_tail(error.get('traceback', ''))}")
    if outcome.status == "timeout":
        return f"{function_name} {outcome.message} (time limit){at}; is there an infinite loop?"
    if outcome.status == "died":
        suffix = ""
        if "SIGKILL" in outcome.message:
            suffix = f"; most often this is the memory limit of {memory_bytes / 2**30:g} GiB"
        return f"the process running {function_name} {outcome.message}{at}{suffix}"
    if outcome.status == "bad_return":
        return f"{function_name} {outcome.message}{at}"
    return f"{function_name}: {outcome.message}{at}"


def _tail(traceback_text: str, lines: int = 8) -> str:
    return "\n".join(traceback_text.strip().splitlines()[-lines:])


class Run:
    def __init__(self, job: dict):
        self.job = job
        self.limits = job["limits"]
        # Our own budget, a little inside the host's deadline, so that a slow submission
        # fails its remaining checks ("total time limit") instead of the host killing us
        # and the grading becoming not gradable.
        deadline = float(self.limits["deadline_s"])
        self.ends_at = time.monotonic() + deadline - max(2.0, 0.05 * deadline)
        self.tolerance = float(job["tolerance"])
        self.pack = assignments.get(job["assignment"])  # everything the assignment declares
        missing = assignments.missing_packages(self.pack)
        if missing:
            raise RuntimeError(f"{self.pack.NAME} needs {', '.join(missing)} in the grading environment; "
                               f"install it (the Docker image installs every pack's packages)")
        # What each worker may import (student_packages): both numpy and the pack's packages, the
        # student also the course's (the configuration's `packages`); both the worker's own
        # helpers, in a view of their own.
        pack_packages = list(self.pack.SANDBOX_PACKAGES)
        self.packages = {"student": student_packages.for_student([*pack_packages, *(job.get("packages") or [])]),
                         "reference": student_packages.for_student(pack_packages),
                         "worker": student_packages.resolve(student_packages.WORKER_ONLY)}
        for role in ("student", "reference"):
            if self.packages[role].missing:
                raise RuntimeError(f"the configuration lets the {role}'s code import "
                                   f"{', '.join(self.packages[role].missing)}, which the grading environment does not "
                                   f"have: install it where the harness runs, or take it out of `packages`")
        self.names = self.pack.STUDENT_FUNCTIONS  # call name -> the student's function
        self.calls = {call.name: call for call in self.pack.CALLS}  # in the pack's order
        self.checks: list[CheckRecord] = []
        self.events: list[str] = []
        self.input_changes: list[str] = []
        # Changes to plain values (the pack's PARAM_NAME) are seen only by the student's own process,
        # which can forge that report: they are shown, never scored (each call gets a fresh
        # copy anyway, so such a change cannot touch grading).
        self.reported_changes: list[str] = []
        self.restarts = 0
        self.student: WorkerProcess | None = None
        self.reference: WorkerProcess | None = None
        self.scratch = ""
        self.made_mounts = False
        self.worker_root: str | None = None  # the allow-list root workers are chrooted into
        self.landlock: dict = {}  # role -> landlock.Ruleset, where Landlock replaces the chroot
        self.disk_budget: disk_cap.Budget | None = None  # the student's, where no tmpfs caps the scratch
        # Shared by every student worker of this run, restarts included.
        self.student_output = (OutputCapture(self.limits["output_bytes"]), OutputCapture(self.limits["output_bytes"]))
        self.import_error = ""  # set when the student's module cannot be imported
        self.functions: dict[str, bool] = {}  # which student functions the module defines
        # Forbidden calls the student worker's hook saw during check calls (untrusted evidence).
        self.watch = list(job.get("forbidden_modules") or [])
        self.observed: dict[tuple, dict] = {}
        # Where the machine figures came from, and the entry for the host's cache when measured here.
        self.machine_report: dict | None = None

    # -- setting up ------------------------------------------------------------------

    def prepare(self) -> Sandboxing:
        self.timing_lock = TimingLock(self.job.get("timing_lock"))
        cpu = self.job.get("cpu")
        if cpu is None:
            cpu = max(os.sched_getaffinity(0))  # the last allowed core, as the CLI says
        os.sched_setaffinity(0, {cpu})  # harness and both workers share one core (see workers)
        # The strongest isolation this process can have (see isolation): a missing
        # privilege lowers the rung, it never fails the grading.
        abilities = isolation.probe(try_namespaces=bool(self.job.get("isolate_namespaces")))
        namespaces = abilities.namespaces
        if namespaces:
            isolate_namespaces()
        # The caller owns scratch_parent and removes it after we exit (see execute).
        self.scratch = tempfile.mkdtemp(prefix="convgrade-", dir=self.job.get("scratch_parent"))
        self.made_mounts = namespaces
        if namespaces:
            mount_scratch(self.scratch, self.limits["scratch_bytes"])
        # Where the student's files go to the real disk (no tmpfs: see the budget below), the
        # disk must hold its budget and the grader's reserve; else not gradable, said plainly.
        on_disk_budget = not namespaces and self.job.get("isolate_namespaces") and abilities.disk_cap
        if on_disk_budget:
            disk_cap.check_room(self.scratch, self.limits["scratch_bytes"])
        os.chmod(self.scratch, 0o711)
        uid_base = self.job.get("uid_base") if abilities.private_uids else None
        self.student_uid = uid_base
        self.reference_uid = uid_base + 1 if uid_base is not None else None
        # Without a chroot the workers open the runtime's real paths as their own uid.
        entries = self._package_entries()
        self.runtime = runtime_copy.current()
        if uid_base is not None and not namespaces and not runtime_copy.reachable_by_private_uid(entries):
            self.runtime = runtime_copy.private_copy(entries)

        worker_dir = self._make_dir("worker", 0o755)
        for name in WORKER_FILES:
            shutil.copy(os.path.join(HARNESS_DIR, name), worker_dir)
            os.chmod(os.path.join(worker_dir, name), 0o644)
        self.worker_dir = worker_dir
        self.views = {role: student_packages.build_view(os.path.join(worker_dir, f"packages-{role}"),
                                                        resolved.entries, self.runtime.relocate)
                      for role, resolved in self.packages.items()}
        self.student_home = self._make_dir("student", 0o700)
        self.student_root = os.path.join(self.student_home, "submission")
        shutil.copytree(self.job["submission_root"], self.student_root, symlinks=False)
        self.reference_home = self._make_dir("reference", 0o700)
        self.reference_root = os.path.join(self.reference_home, "code")
        import reference

        shutil.copytree(list(reference.__path__)[0], os.path.join(self.reference_root, "reference"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for home, uid in ((self.student_home, self.student_uid), (self.reference_home, self.reference_uid)):
            if uid is not None:
                _chown_tree(home, uid)
        self.worker_root = None
        runtime = self._runtime_folders()
        if namespaces and uid_base is not None:
            self.worker_root = self._make_dir("root", 0o755)
            build_worker_root(self.worker_root, read_only=runtime, writable=[self.student_home, self.reference_home],
                              packages=self._package_sites(entries))
        if namespaces:
            for path in self.job.get("hide_paths", []):
                if os.path.exists(path):
                    hide_path(path)
            cover_shared_dirs(self.scratch, runtime=[sys.prefix, sys.base_prefix, *(entry.path for entry in entries)])
            private_proc()
        self.syscall_filter = seccomp.Filter() if abilities.seccomp else None
        self.landlock = {}
        if self.worker_root is None and abilities.landlock_abi:
            shared = [*SYSTEM_DIRS, self.worker_dir, "/proc/cpuinfo", "/sys/devices/system/cpu"]
            self.landlock = {role: landlock.Ruleset(abilities.landlock_abi, self._landlock_runtime(role) + shared, [home],
                                                    list(DEVICES))
                             for role, home in (("student", self.student_home), ("reference", self.reference_home))}
        # Where no size-capped tmpfs holds the student's files (the namespaces rung mounts
        # one, a Docker backend container has its own): the same cap, as a budget (disk_cap).
        self.disk_budget = None
        if on_disk_budget:
            scratch = self.scratch
            self.disk_budget = disk_cap.Budget(self.limits["scratch_bytes"], self.limits["file_size_bytes"],
                                               os.statvfs(scratch).f_bsize,
                                               free_space=lambda: disk_cap.free_bytes(scratch))
        if uid_base is None:  # workers share our uid: keep our memory out of reach of /proc/<pid>/mem and ptrace
            lockdown.not_dumpable()
        pid_namespace = os.getpid() == 1 or not self.job.get("isolate_namespaces")  # else: a container's
        exposed = [] if namespaces or self.landlock or uid_base is None else _exposed_grader_files()
        described = isolation.describe(abilities, pid_namespace=pid_namespace,
                                       landlock_used=abilities.landlock_abi if self.landlock else 0,
                                       runtime_copied=self.runtime.copied, exposed=exposed,
                                       inside_container=not self.job.get("isolate_namespaces"),
                                       disk_cap_bytes=self.disk_budget.cap if self.disk_budget else None)
        return Sandboxing(private_uids=uid_base is not None, namespaces=namespaces, cpu=cpu,
                          pid_namespace=pid_namespace,
                          seccomp=seccomp.description() if self.syscall_filter else "", notes=described.lacks,
                          isolation=described.__dict__)

    def _package_entries(self) -> tuple[student_packages.Entry, ...]:
        """Every package file or folder some worker may open (student_packages)."""
        every = {entry.path: entry for resolved in self.packages.values() for entry in resolved.entries}
        return tuple(every.values())

    @staticmethod
    def _package_sites(entries: tuple[student_packages.Entry, ...]) -> dict[str, list[str]]:
        """{site-packages folder: its entries the workers may see}, for every folder of
        packages this interpreter knows: the chroot shows those entries and nothing else."""
        sites: dict[str, list[str]] = {site: [] for site in student_packages.site_folders(entries)}
        for entry in entries:
            sites[entry.site].append(entry.name)
        return sites

    def _landlock_runtime(self, role: str) -> list[str]:
        """What Landlock lets a worker of ``role`` read of the runtime: the interpreter, the
        standard library, and its own packages and the worker's (never a whole site-packages:
        it may hold the grader, the references, and whatever the grader's environment has)."""
        if self.runtime.copied:
            return [os.path.dirname(os.path.dirname(self.runtime.executable))]
        return runtime_copy.runtime_paths(self.packages[role].entries + self.packages["worker"].entries)

    def _runtime_folders(self) -> list[str]:
        """What a worker may read and run besides the system's folders: the runtime, its code.
        Not the virtual environment the grader runs in (workers run its interpreter, with -S),
        unless the interpreter itself lives there (a copy, not a link)."""
        if self.runtime.copied:
            folders = [os.path.dirname(os.path.dirname(self.runtime.executable))]
        else:
            folders = [sys.base_prefix]
            if runtime_copy.interpreter().startswith(os.path.join(os.path.realpath(sys.prefix), "")):
                folders.append(sys.prefix)
        folders.append(self.worker_dir)
        return list(dict.fromkeys([os.path.realpath(p) for p in folders] + folders))

    def _make_dir(self, name: str, mode: int) -> str:
        path = os.path.join(self.scratch, name)
        os.mkdir(path)
        os.chmod(path, mode)
        return path

    def _limits(self, uid: int | None, cpu: int, home: str) -> WorkerLimits:
        lim = self.limits
        return WorkerLimits(
            address_space_bytes=self.pack.worker_address_space_bytes(lim),
            file_size_bytes=lim["file_size_bytes"],
            open_files=lim["open_files"],
            cpu_seconds=lim["cpu_seconds"],
            uid=uid,
            # One task: no threads, no child processes, so no helper can compute on
            # another core or while the harness is not looking. Under the grader's own uid
            # (no private uids) the count includes the grader's processes: still none can start.
            tasks=1,
            cpu=cpu,
            # The student's worker before the reference's, should a container's memory run out.
            oom_score_adj=1000 if uid == self.student_uid else 500,
            root=self.worker_root,
            workdir=home,
            syscall_filter=self.syscall_filter,
            landlock=self.landlock.get("student" if home == self.student_home else "reference"),
        )

    def _spec(self, role: str, cpu: int) -> WorkerSpec:
        request, response = self.pack.arena_sizes()
        if role == "student":
            root, entry, functions = self.student_root, self.job["entry"], tuple(self.names.values())
            uid, home = self.student_uid, self.student_home
        else:
            root, entry = self.reference_root, self.pack.REFERENCE_ENTRY
            functions, uid, home = tuple(self.pack.REFERENCE_FUNCTIONS.values()), self.reference_uid, self.reference_home
        return WorkerSpec(role=role, worker_dir=self.worker_dir, root=root, entry=entry, functions=functions,
                          workdir=home, limits=self._limits(uid, cpu, home), request_bytes=request,
                          response_bytes=response, output_limit=self.limits["output_bytes"],
                          executable=self.runtime.executable, runtime_env=tuple(self.runtime.env.items()),
                          packages=self.views[role], worker_packages=self.views["worker"],
                          disk_budget=self.disk_budget if role == "student" else None)

    def start_worker(self, role: str, cpu: int) -> tuple[WorkerProcess, CallOutcome]:
        captures = self.student_output if role == "student" else (None, None)
        worker = WorkerProcess(self._spec(role, cpu), *captures)
        return worker, worker.start(max(1.0, min(self.limits["import_timeout_s"], self.time_left())))

    def ensure_student(self, cpu: int) -> bool:
        """Restart the student worker after a crash or timeout, so one failure fails one check."""
        if self.student is not None and self.student.alive:
            return True
        if self.import_error or self.restarts >= MAX_WORKER_RESTARTS or self.time_left() <= 0:
            return False  # a module that hung or crashed at import would only do it again
        self.restarts += 1
        if self.student is not None:
            self.student.stop()
            self.events.append("student worker restarted")
        self.student, outcome = self.start_worker("student", cpu)
        if not outcome.ok and outcome.message.startswith("could not be started"):
            self.events.append(f"student worker {outcome.message}")
        return outcome.ok

    # -- checks ------------------------------------------------------------------------

    def time_left(self) -> float:
        return self.ends_at - time.monotonic()

    def call_timeout(self, reference_s: float) -> float:
        own = self.limits["call_allowance_s"] + self.limits["call_time_factor"] * reference_s
        return max(0.0, min(own, self.time_left()))

    def total_time_reached(self) -> str:
        return f"this grading's total time limit ({self.limits['deadline_s']:g} s) was reached"

    def check_case(self, case, cpu: int) -> None:
        """The case's calls in order, each graded call's results checked; what a call keeps
        (a forward's cache) stays in the student's worker for the later calls that need it."""
        started = clock_ns()
        expected = self.pack.expected_outputs(case)
        reference_s = (clock_ns() - started) / 1e9
        timeout = self.call_timeout(reference_s)
        made: dict[str, str] = {}  # kept label -> the worker slot holding the student's value
        slots = []
        for call in (self.calls[name] for name in case.calls):
            name = self.names[call.name]
            slot = f"{call.kept[0]}-{case.id}" if call.kept else None
            slots += [slot] if slot else []
            outcome = None
            if self.time_left() > 0 and self.ensure_student(cpu) and self.functions.get(name):
                # A worker restarted since the earlier call no longer holds what it kept.
                kept = {label: held for label, held in made.items() if any(k[0] == held for k in self.student.kept)}
                args, inputs = case.arguments(call.name, kept)
                outcome = self.student.call(name, args, list(call.results), inputs, timeout, slot,
                                            extra=self._watch_request(), may_change=call.mutable)
                self._note_changes(outcome, name, case, args, call)
                self._note_observed(outcome, call.name)
                if slot and outcome.ok:
                    made[call.kept[0]] = slot
            if call.name in case.graded:
                note = self._stand_in_note(call, made) if outcome is not None else ""
                for label in call.sent:
                    self._record(case, call.name, label, outcome, expected[label], name, note)
        if slots:
            self._forget(slots)

    def _stand_in_note(self, call, made: dict[str, str]) -> str:
        """Said on a failed check of a call that got the starter code's stand-in for what
        the student's earlier call should have kept."""
        notes = []
        for label in call.needs:
            if label not in made:
                maker = next(c.name for c in self.pack.CALLS if label in c.kept)
                notes.append(f"your {maker} gave no usable {label} here, so {call.name} got the template's "
                             f"{label} {self.pack.STAND_INS[label]}")
        return f" ({'; '.join(notes)})" if notes else ""

    def _watch_request(self) -> dict | None:
        return {"watch": self.watch} if self.watch else None

    def _note_observed(self, outcome: CallOutcome, function: str) -> None:
        for item in speed_feedback.clean_observed(outcome.feedback.get("observed"), function):
            key = (function, item["module"], item["name"], item["file"], item["line"])
            if key in self.observed:
                self.observed[key]["count"] += item["count"]
            elif len(self.observed) < 40:
                self.observed[key] = item

    def _forget(self, slots: list[str]) -> None:
        if self.student is not None and self.student.alive:
            self.student.forget(slots)

    def _note_changes(self, outcome: CallOutcome, function_name: str, case, args, call) -> None:
        for name in outcome.inputs_changed:  # arrays: compared by the harness itself (declared mutable ones left out)
            self.input_changes.append(f"{function_name} changed its input {name} {case.where}")
        if self.pack.PARAM_NAME in call.mutable:
            return
        for name in [self.pack.PARAM_NAME for i in outcome.changed_args if i < len(args) and "value" in args[i]]:
            self.reported_changes.append(f"{function_name} changed its input {name} {case.where}")

    def _record(self, case, function: str, label: str, outcome: CallOutcome | None,
                expected: np.ndarray | tuple[np.ndarray, ...], function_name: str, suffix: str = "") -> None:
        identity = self.pack.check_identity(case.id, case.group, function, label)
        if outcome is None:
            passed, message = False, self._unavailable_message(function_name)
        elif outcome.ok and label in outcome.results:
            # A tuple: every answer the pack accepts (max pooling's two subgradients at ties).
            accepted = expected if isinstance(expected, tuple) else (expected,)
            verdicts = [compare(label, outcome.results[label], one, self.tolerance, case.where) for one in accepted]
            verdict = next((v for v in verdicts if v.passed), verdicts[0])
            passed, message = verdict.passed, verdict.message
            got = outcome.results[label].array
            message += self.pack.published_note(case.id, got) if verdict.passed else \
                self.pack.wrong_answer_note(case, label, got)
        else:
            passed, message = False, _describe_failure(outcome, function_name, self.limits["memory_bytes"], case.where)
            if outcome.status == "timeout" and self.time_left() <= 0:
                message = f"{function_name} was stopped: {self.total_time_reached()}"
        if suffix and not passed:  # on the first line, before any traceback
            first_line, newline, rest = message.partition("\n")
            message = first_line + suffix + newline + rest
        self.checks.append(CheckRecord(**identity, passed=passed, message=message))

    def _unavailable_message(self, function_name: str) -> str:
        if self.time_left() <= 0:
            return f"not run: {self.total_time_reached()}"
        if self.import_error:
            return self.import_error
        if not self.functions.get(function_name):
            return f"{function_name} is not defined in {self.job['entry']}"
        return "the student worker could not be restarted after repeated crashes"

    def inputs_check(self) -> None:
        if self.input_changes:
            shown = "; ".join(self.input_changes[:3])
            more = f" (and {len(self.input_changes) - 3} more)" if len(self.input_changes) > 3 else ""
            message = (f"{shown}{more}. Work on copies (e.g. np.pad returns a new array); never write into "
                       f"{self.pack.INPUT_NAMES}")
            passed = False
        elif self.import_error:
            passed, message = False, self.import_error
        else:
            passed, message = True, "no call changed its inputs"
        if self.reported_changes:
            shown = "; ".join(self.reported_changes[:3])
            message += (f". Your own process reported: {shown}. The grader cannot verify a plain value's change "
                        f"(your process could hide it), so it is not scored; work on a copy all the same")
        self.checks.append(CheckRecord(**self.pack.INPUTS_CHECK, passed=passed, message=message))

    # -- timing ------------------------------------------------------------------------

    def untimed(self, reason: str | None) -> list[dict]:
        """A timing row per function with no figure (the reason may be filled in later)."""
        case = self.pack.speed_case_name(self.job["timing"]["size"])
        return [{"function": fn, "measured": False, "case": case, "reason": reason} for fn in self.calls]

    def time_functions(self, cpu: int, seed: int) -> list[dict]:
        passed = {fn: all(c.passed for c in self.checks if c.function == fn) for fn in self.calls}
        results = {row["function"]: row for row in self.untimed(None)}
        if not self.job["timing"]["enabled"]:
            for fn in results:
                results[fn]["reason"] = "timing is disabled in this grading's configuration"
            return list(results.values())
        for fn, ok in passed.items():
            if not ok:
                results[fn]["reason"] = "not timed: the function failed a correctness check"
        timed = [fn for fn, ok in passed.items() if ok]
        if not timed:
            return list(results.values())
        if self.time_left() <= 0:
            for fn in timed:
                results[fn]["reason"] = f"not timed: {self.total_time_reached()}"
            return list(results.values())
        if not self.ensure_student(cpu):
            for fn in timed:
                results[fn]["reason"] = "not timed: the student worker could not be started"
            return list(results.values())
        rng = np.random.default_rng([seed, 7])
        settings = dict(self.job["timing"])
        plan = TimingPlan(max_pairs=max(1, int(settings.get("pairs", 1))), min_trials=int(settings["min_trials"]),
                          max_trials=int(settings["max_trials"]), budget_s=float(settings["budget_s"]),
                          phase_s=float(settings.get("phase_s", float("inf"))))
        steady_allocator()
        identity = self.machine_identity(settings["size"])
        cached = (self.job.get("machine") or {}).get("cached")
        machine = speed_feedback.cached_figures(cached, identity)
        if machine is not None:
            self.machine_report = {"source": speed_feedback.describe_source(cached), "measured": None}
        phase_started = clock_ns()
        blocks: list[TrialRunner] = []
        failure, stopped = "", ""
        quiet = QuietWait(self.other_cores, float((self.job.get("machine") or {}).get("quiet_wait_s", 0.0)))
        busy = None  # the other cores are looked at during each pair's trials (TrialRunner.run)
        pairs_run = 0
        while True:
            trials = sum(runner.trials for runner in blocks)
            spent = sum(runner.cpu_s for runner in blocks)
            if not plan.wants_another_pair(len(blocks), trials, spent, blocks[-1].cpu_s if blocks else 0.0):
                if len(blocks) < plan.max_pairs:
                    stopped = plan.stopped_early(statistics.median(t for r in blocks for t in r.trial_cpu_s))
                break
            if pairs_run and self.time_left() < 2 * (clock_ns() - phase_started) / 1e9 / pairs_run:
                stopped = "the grading's own time was running out"
                break
            quiet.before_pair(busy, self.time_left())
            if pairs_run and not self.fresh_pair(cpu):
                failure = "not timed: the student worker could not be restarted for another timing pair"
                break
            runner = TrialRunner(self, timed, cpu)
            pair_started = clock_ns()
            failure = runner.run(rng, settings, plan.pair_budget(len(blocks), trials))
            pairs_run += 1
            busy = runner.other_cores_busy
            if not failure and quiet.redo(busy, (clock_ns() - pair_started) / 1e9):
                continue  # timed while other cores were busy: redone after a quiet spell
            blocks.append(runner)
            if failure:
                break
            if machine is None and not contended(busy):
                # Once per host: after the first quiet pair's trials, in its warm reference worker
                # (figures measured beside a busy neighbour would be cached as this host's).
                machine = self.measure_machine(runner, rng, settings["size"])
                measured = {"identity": identity, "figures": machine,
                            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                self.machine_report = {"source": speed_feedback.describe_source(None), "measured": measured}
        if not blocks and not failure:  # the only pair was redone (a busy machine) and time ran out
            failure = (f"not timed: {stopped or self.total_time_reached()}, after the only worker pair was timed "
                       "while other cores were busy and thrown away")
        phase_s = (clock_ns() - phase_started) / 1e9
        busy_machine, busy_machine_text = quiet.report(blocks), quiet.describe(blocks)  # the same for every function
        for fn in timed:
            if failure:
                results[fn]["reason"] = failure
                continue
            student = [runner.times["student"][fn] for runner in blocks]
            reference = [runner.times["reference"][fn] for runner in blocks]
            summary = summarize_blocks(student, reference, float(settings.get("between_gradings_cv", 0.0)),
                                       [2 * runner.run_length for runner in blocks])
            results[fn].update(
                measured=True, trials=summary.trials, student_median_s=summary.student_median_s,
                reference_median_s=summary.reference_median_s, speedup_vs_reference=summary.speedup,
                ci_low=summary.ci_low, ci_high=summary.ci_high, ci_level=summary.ci_level,
                ci_method=summary.ci_method, pairs=len(blocks), pair_speedups=summary.pair_speedups,
                timing_phase_s=phase_s,
                plan="; ".join(filter(None, (
                    describe_plan(len(blocks), summary.trials, any(runner.own_warm_up for runner in blocks),
                                  stopped, float(settings["own_warm_up_s"]),
                                  [runner.run_length for runner in blocks]),
                    busy_machine_text))),
                call_overhead_s=statistics.median(runner.overhead_s[fn] for runner in blocks),
                clock=self.clock_description(),
                student_times_s=[t for times in student for t in times],
                reference_times_s=[t for times in reference for t in times],
                **busy_machine,
            )
            if machine is not None:  # None when every pair ran beside a busy neighbour and none was cached
                results[fn].update(speed_feedback.machine_figures(self.pack, fn, settings["size"], summary.speedup,
                                                                  machine))
        return list(results.values())

    def machine_identity(self, size: str) -> dict:
        """What the machine figures hold for: this host (named by the host), its CPU and the
        timed runtime (numpy, BLAS, Python), the assignment's size, and the reference's code
        as the reference worker runs it."""
        folder = os.path.join(self.reference_root, "reference")
        files = []
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as source:
                    files.append((name, source.read()))
        return {"host": str((self.job.get("machine") or {}).get("host", "")), **environment(),
                "cpus": os.cpu_count(), "assignment": self.pack.NAME, "size": size,
                "reference": speed_feedback.code_digest(files)}

    def measure_machine(self, runner: "TrialRunner", rng, size: str) -> dict:
        """The reference's and the same-shape product's steady times (speed_feedback), in the
        reference worker that has just run its pair's trials."""
        case = self.pack.speed_case(rng, -300, size)
        m, k, f = self.pack.same_shape_gemm(size)
        allowance = self.limits["call_allowance_s"]

        def product(kind: str, repeat: int) -> float:
            spec = {"m": m, "k": k, "f": f, "pass": kind, "repeat": repeat}
            outcome = self.reference.call(None, [{"value": spec}], [], {}, allowance * repeat, op="gemm")
            if not outcome.ok or outcome.cpu_s is None:
                raise RuntimeError(f"the reference worker failed the peak product: {outcome.message or outcome.error}")
            return outcome.cpu_s

        return speed_feedback.measure_machine(lambda repeats: runner.reference_pair(case, repeats), product)

    def profile_functions(self, cpu: int, timing: list[dict]) -> list[dict]:
        """Each measured function once more under the line profiler, in the student's worker,
        after every timed trial: feedback only (see speed_feedback)."""
        profiles = []
        measured = {row["function"]: row for row in timing if row.get("measured")}
        rng = np.random.default_rng([int(self.job["seed"]), 11])
        case = self.pack.speed_case(rng, -200, self.job["timing"]["size"])
        order = list(self.calls)
        for fn in reversed(order):  # last first: a later call's earlier ones run unprofiled for what they keep
            budget = min(speed_feedback.PROFILE_BUDGET_S, self.time_left() / 4)
            if fn not in measured or budget <= 0.05 or not self.ensure_student(cpu):
                continue
            # The timed trials' own limit for a call; the profiled call stops itself at its budget.
            timeout = self.call_timeout(measured[fn]["reference_median_s"])
            made = self._keep_for(fn, case, timeout)
            if isinstance(made, str):
                self.events.append(f"no line profile of {self.names[fn]}: {made}")
                continue
            args, inputs = case.arguments(fn, made)
            outcome = self.student.call(self.names[fn], args, [], inputs, timeout,
                                        op="profile", extra={"budget_s": budget})
            if made:
                self._forget(list(made.values()))
            profile = speed_feedback.clean_profile(outcome.feedback.get("profile"), fn, budget) if outcome.ok else None
            if profile is not None:
                profiles.append(profile)
            else:
                self.events.append(f"no line profile of {self.names[fn]}: {outcome.message or outcome.status}")
        return sorted(profiles, key=lambda p: order.index(p["function"]))

    def _keep_for(self, fn: str, case, timeout: float) -> dict[str, str] | str:
        """Run, unprofiled, the earlier calls whose kept results ``fn`` needs; returns the
        slots holding them, or why one gave none."""
        made: dict[str, str] = {}
        for earlier in self.pack.CALLS:
            if earlier.name == fn:
                break
            wanted = [label for label in earlier.kept if label in self.calls[fn].needs]
            if not wanted:
                continue
            args, inputs = case.arguments(earlier.name, made)
            slot = f"profile-{wanted[0]}"
            kept = self.student.call(self.names[earlier.name], args, list(earlier.results), inputs, timeout, slot,
                                     may_change=earlier.mutable)
            if not kept.ok:
                if made:
                    self._forget(list(made.values()))
                return f"its {earlier.name} gave no {wanted[0]} ({kept.status})"
            made[wanted[0]] = slot
        return made

    def fresh_pair(self, cpu: int) -> bool:
        """New student and reference workers for the next timing block: the spread between
        processes (where their memory landed, what they ran before) is part of a figure's
        uncertainty, and only fresh processes show it."""
        for worker in (self.student, self.reference):
            if worker is not None:
                worker.stop()
        self.student, ready = self.start_worker("student", cpu)
        self.reference, reference_ready = self.start_worker("reference", cpu)
        if not reference_ready.ok:
            raise RuntimeError(f"the reference worker failed to restart: {reference_ready.error or reference_ready.message}")
        return ready.ok

    def clock_description(self) -> str:
        how = ("the worker process's CPU time (kernel accounting, read by the harness while the worker is "
               "stopped), less the fixed cost of a call (call_overhead_s)")
        if not (self.student and self.student.direct_reads and self.reference and self.reference.direct_reads):
            how += "; outputs copied into shared memory by the worker, on its clock"
        return how

    # -- the whole run -------------------------------------------------------------------

    def execute(self) -> dict:
        sandboxing = self.prepare()
        cpu = sandboxing.cpu
        self.other_cores = OtherCores({cpu} if cpu is not None else None)
        profiles: list[dict] = []
        seed = int(self.job["seed"])
        try:
            self.check_all(cpu, seed)
            if self.import_error:
                timing = self.untimed("not timed: the module could not be imported")
            else:
                with self.timing_lock.exclusive():
                    timing = self.time_functions(cpu, seed)
                profiles = self.profile_functions(cpu, timing)
        finally:
            for worker in (self.student, self.reference):
                if worker is not None:
                    worker.stop()
            for ruleset in self.landlock.values():
                ruleset.close()
            # NEVER delete recursively after mounting: a bind mount of the interpreter's
            # folder lives under the scratch, and rmtree would delete through it into the
            # real files. The private tmpfs vanishes with our namespace; the host removes
            # the empty parent. Without mounts, deleting is safe; folders the student locked
            # (mode 000 under our own uid) are opened up first. What stays, the host reports.
            if self.scratch and not self.made_mounts:
                tree_removal.remove_tree(self.scratch)
        shortage = self.disk_budget.shortage() if self.disk_budget is not None else None
        if shortage is not None:
            raise shortage
        budget = ReportBudget(STUDENT_TEXT_BUDGET)
        checks = [dict(c.as_json(), message=budget.take(c.message, MESSAGE_BYTES)) for c in self.checks]
        for row in timing:
            if row.get("reason"):
                row["reason"] = budget.take(row["reason"], MESSAGE_BYTES)
        return {
            "assignment": self.pack.NAME,
            "seed": seed,
            "import": {"ok": not self.import_error, "message": budget.take(self.import_error, MESSAGE_BYTES),
                       "functions": self.functions},
            "checks": checks,
            "timing": timing,
            "line_profiles": profiles,
            "observed_forbidden": list(self.observed.values()),
            "student_output": budget.take(self._student_output(), STUDENT_TEXT_BUDGET),
            "events": self.events,
            "sandboxing": sandboxing.__dict__,
            "environment": environment(),
            "machine": self.machine_report,
        }

    def check_all(self, cpu: int, seed: int) -> None:
        """Start both workers and run every correctness check."""
        self.student, ready = self.start_worker("student", cpu)
        if ready.ok:
            self.functions = dict(ready.ready.get("functions") or {})
        else:
            self.import_error = self._import_message(ready)
        self.reference, reference_ready = self.start_worker("reference", cpu)
        if not reference_ready.ok:
            raise RuntimeError(f"the reference worker failed to start: {reference_ready.error or reference_ready.message}")
        for case in self.pack.notebook_cases() + self.pack.hidden_cases(seed, int(self.job["hidden_cases"])):
            with self.timing_lock.shared():  # per case: another grading's timing waits one case at most
                self.check_case(case, cpu)
        self.inputs_check()

    def _import_message(self, ready: CallOutcome) -> str:
        if ready.status == "raised":
            error = ready.error or {}
            where = ""
            if error.get("lineno"):
                where = f" ({error.get('filename')} line {error['lineno']}: {error.get('text', '')})"
            return (f"importing {self.job['entry']} failed: {error.get('type')}: {error.get('message', '')[:500]}"
                    f"{where}\n{_tail(error.get('traceback', ''))}")
        if ready.status == "timeout":
            return f"importing {self.job['entry']} {ready.message}: is there an infinite loop at module level?"
        return f"importing {self.job['entry']} failed: the process {ready.message}"

    def _student_output(self) -> str:
        parts = [("stdout", self.student_output[0].text()), ("stderr", self.student_output[1].text())]
        return "\n".join(f"--- {name} ---\n{text}" for name, text in parts if text)


class TrialRunner:
    """Student and reference on the same fresh inputs per trial, in runs: each side times
    ``run_length`` trials' calls in a row, then the other side the same trials, the order
    of the sides alternating from run to run (A B B A ...)."""

    def __init__(self, run: Run, timed: list[str], cpu: int):
        self.run_ = run
        self.timed = timed
        self.cpu = cpu
        self.times = {role: {fn: [] for fn in timed} for role in ("student", "reference")}
        self.trials = 0
        # What the plan and the budget count: the calls' CPU time (both sides), which a
        # regrade repeats whatever else the machine runs; wall time only guards the deadline.
        self.cpu_s = 0.0  # every timed call of this pair: warm-ups and trials
        self.other_cores_busy: float | None = None  # the rest of the machine during this pair (contention.py)
        self.trial_cpu_s: list[float] = []  # each trial's calls
        self.own_warm_up = False  # the student's first call pair was long enough to be a trial
        self.run_length = 1  # trials per run, set after the warm-ups (timing.run_length)
        self.runs = 0
        self.rewarm = {"student": False, "reference": True}  # which sides start a run with an untimed call pair
        self.rewarm_case = None  # inputs for those calls: the reference's warm-up's, then each run's last
        # The fixed CPU cost of a call in a worker (reading the request, building the
        # arguments, replying, being stopped and continued), subtracted from both sides.
        self.overhead_s = {fn: 0.0 for fn in run.calls}

    def one_call_pair(self, role: str, case, timeout: float) -> tuple[dict, dict, str]:
        """The case's calls in order on one worker; returns (times, outputs, failure message).
        Every worker is held stopped between its calls (``WorkerProcess``), so the student's
        runs nothing while the reference is timed."""
        times, outputs, failure = self._one_call_pair(role, case, timeout)
        self.cpu_s += sum(times.values())
        return times, outputs, failure

    def reference_pair(self, case, repeats: dict[str, int]) -> dict:
        """The reference's calls on ``case``, each repeated back to back ``repeats[call]``
        times in one request, net of the fixed cost of a request; outside the trials and
        their budget, for the machine figures (speed_feedback). As make bench runs them,
        nothing is copied out: the results stay in the worker (the reference's, unchecked)."""
        worker, names = self.run_.reference, self.run_.pack.REFERENCE_FUNCTIONS
        times, made = {}, {}
        for call in (self.run_.calls[name] for name in case.calls):
            slot = f"machine-{call.kept[0]}" if call.kept else None
            args, inputs = case.arguments(call.name, made)
            outcome = worker.call(names[call.name], args, list(call.results), inputs,
                                  min(self.timeout * repeats[call.name], self.run_.time_left()), slot,
                                  extra={"repeat": repeats[call.name], "discard": True}, may_change=call.mutable)
            if not outcome.ok:
                raise RuntimeError(f"the reference failed while measuring the machine figures: {outcome.message}")
            times[call.name] = self._net(outcome, call.name)
            if slot:
                made[call.kept[0]] = slot
        if made:
            worker.forget(list(made.values()))
        return times

    def _one_call_pair(self, role: str, case, timeout: float) -> tuple[dict, dict, str]:
        worker = self.run_.student if role == "student" else self.run_.reference
        names = self.run_.names if role == "student" else self.run_.pack.REFERENCE_FUNCTIONS
        times, outputs, made = {}, {}, {}
        for call in (self.run_.calls[name] for name in case.calls):
            # The student's untimed calls (they failed a check) are skipped: a later call then
            # gets the starter code's stand-in for what they keep. The reference runs them all.
            if role == "student" and call.name not in self.timed:
                continue
            slot = f"timing-{call.kept[0]}-{case.id}" if call.kept else None
            args, inputs = case.arguments(call.name, made)
            outcome = worker.call(names[call.name], args, list(call.results), inputs, timeout, slot,
                                  may_change=call.mutable)
            if not outcome.ok:
                memory = self.run_.limits["memory_bytes"]
                return times, outputs, _describe_failure(outcome, names[call.name], memory, case.where)
            if outcome.inputs_changed:
                return times, outputs, f"{names[call.name]} changed its input {outcome.inputs_changed[0]}"
            times[call.name] = self._net(outcome, call.name)
            outputs.update(outcome.results)
            if slot:
                made[call.kept[0]] = slot
        if made:
            worker.forget(list(made.values()))
        return times, outputs, ""

    def run(self, rng: np.random.Generator, settings: dict, budget: TrialBudget) -> str:
        """Warm up both sides, then time trials under the budget; returns a failure reason or ''.
        The other cores are looked at over all of it (a look needs the kernel's 10 ms ticks
        to pass), but not over the workers' start: reading files in a container keeps the
        host's overlay daemon busy on another core while they import."""
        at_start = self.run_.other_cores.sample()
        try:
            return self._run(rng, settings, budget)
        finally:
            self.other_cores_busy = self.run_.other_cores.busy_since(at_start)
            self.rewarm_case = None  # 7 MB at the speed cell, kept per pair otherwise

    def _run(self, rng: np.random.Generator, settings: dict, budget: TrialBudget) -> str:
        allowance = self.run_.limits["call_allowance_s"]
        warm_ref_s = self._warm_up("reference", rng, allowance, settings)
        if isinstance(warm_ref_s, str):
            raise RuntimeError(f"the reference failed while warming up: {warm_ref_s}")
        timeout = self.timeout = self.run_.call_timeout(warm_ref_s)
        self.calibrate(rng, settings)
        warm_student = self._warm_up("student", rng, timeout, settings, own_warm_up=True)
        if isinstance(warm_student, str):
            return f"not timed: {warm_student}"
        first = warm_student if isinstance(warm_student, tuple) else None
        if first is None:
            self.run_length = run_length(budget, warm_ref_s + warm_student)
            # Each side's run starts with an untimed call pair (``_runs``): always the
            # reference's, so that it is timed alike whoever it is compared with; the
            # student's where its calls are short enough for a cold start to show.
            self.rewarm["student"] = warm_student < REWARM_LIMIT_S
        wall_s = 0.0
        while True:
            if first is None:
                count = next_run(budget, self.trials, sum(self.trial_cpu_s), self.run_length)
                if not count:
                    break
                # A block's first run starts only with time for the whole block.
                starts_block = self.run_length > 1 and self.trials % (2 * self.run_length) == 0
                span = 2 * count if starts_block else count
                if self.trials and self.run_.time_left() < (span + 1) * wall_s / self.trials:
                    if self.trials < budget.min_trials:
                        return f"not timed: {self.run_.total_time_reached()}"
                    break
            if first is not None:  # the student's long first call pair: its reference follows
                case, student, started = first
                cases, students = [case], [student]
                first = None
            else:
                cases = [self.run_.pack.speed_case(rng, self.trials + i, settings["size"]) for i in range(count)]
                students, started = [None] * len(cases), clock_ns()
            failure = self._runs(cases, timeout, students)
            if failure:
                return failure
            wall_s += (clock_ns() - started) / 1e9
        return ""

    def _runs(self, cases: list, timeout: float, students: list) -> str:
        """One run of trials on each side: one side's calls on every case, then the other's,
        the first side alternating (A B B A ...); a student call pair already done (a long
        warm-up call) is not repeated. The reference's run, and the student's where
        ``rewarm`` says so, starts with an untimed call pair on inputs already timed (the
        first run: the reference's warm-up inputs), so that its first timed call, like
        the others, follows one of its own side. The outputs are checked once both runs
        are done: between two calls of a run the harness only stages the next inputs,
        copies the outputs out and checks that the inputs were left unchanged. Returns a
        failure reason or ''."""
        order = ("student", "reference") if self.runs % 2 == 0 else ("reference", "student")
        results: dict[str, list] = {"student": list(students), "reference": [None] * len(cases)}
        for role in order:
            if self.rewarm[role] and any(result is None for result in results[role]):
                _, _, failure = self.one_call_pair(role, self.rewarm_case, timeout)
                if failure:
                    if role == "reference":
                        raise RuntimeError(f"the reference failed before a timed run: {failure}")
                    return f"not timed: before timed trial {self.trials + 1}, {failure}"
            for index, case in enumerate(cases):
                if results[role][index] is not None:
                    continue
                times, outputs, failure = self.one_call_pair(role, case, timeout)
                if failure:
                    if role == "reference":
                        raise RuntimeError(f"the reference failed in a timed trial: {failure}")
                    return f"not timed: in timed trial {self.trials + index + 1}, {failure}"
                results[role][index] = (times, outputs)
        for index, case in enumerate(cases):
            wrong = self._wrong_output({role: results[role][index] for role in results}, case)
            if wrong:
                return f"not timed: the output of timed trial {self.trials + index + 1} was wrong: {wrong}"
        for index in range(len(cases)):
            for role in ("student", "reference"):
                for fn in self.timed:
                    self.times[role][fn].append(results[role][index][0][fn])
            self.trial_cpu_s.append(sum(sum(results[role][index][0].values()) for role in results))
        self.trials += len(cases)
        self.runs += 1
        self.rewarm_case = cases[-1]  # seen by both sides: remembering its answer gains nothing
        return ""

    def _net(self, outcome: CallOutcome, function: str) -> float:
        """A call's CPU time less the calibrated fixed cost (never below half of it: at the
        small development size the fixed cost is most of a call)."""
        measured = _timed(outcome)
        return max(measured - self.overhead_s[function], measured / 2)

    def calibrate(self, rng, settings: dict, calls: int = 5) -> None:
        """The fixed cost of a call: null calls (the same request and arguments, no call)
        on the reference worker, whose code is ours. Measured on the student's worker, a
        student could inflate it; any student's fixed cost is its own to shrink either way."""
        case = self.run_.pack.speed_case(rng, -100, settings["size"])
        reference = self.run_.reference
        for function in self.run_.calls:
            args, inputs = case.arguments(function, {})  # as the call itself, with stand-ins for kept results
            costs = []
            for _ in range(calls):
                outcome = reference.call(None, args, [], inputs, self.run_.limits["call_allowance_s"], op="null")
                if not outcome.ok or outcome.cpu_s is None:
                    raise RuntimeError(f"the reference worker failed a null call: {outcome.message or outcome.error}")
                costs.append(outcome.cpu_s)
            self.overhead_s[function] = sorted(costs)[len(costs) // 2]

    def _warm_up(self, role: str, rng, timeout: float, settings: dict,
                 own_warm_up: bool = False) -> float | str | tuple:
        """Calls until ``warmup_s`` of wall time has passed (at least one); returns the last
        call pair's total timed (CPU) time. With ``own_warm_up``, a first call pair of
        ``own_warm_up_s`` or more (CPU time) ends the warm-up and is kept as the first trial: returns
        (case, (times, outputs), its start on the wall clock)."""
        started, calls, last = clock_ns(), 0, 0.0
        # One set of inputs for the whole warm-up: nothing of it is timed, and drawing fresh
        # inputs for each of a fast solution's ten or so warm-up calls was harness time.
        case = self.run_.pack.speed_case(rng, self.trials if own_warm_up else -1, settings["size"])
        if not own_warm_up:
            self.rewarm_case = case  # the reference's: the first run's untimed calls reuse it
        while calls == 0 or ((clock_ns() - started) / 1e9 < settings["warmup_s"] and calls < 20):
            case_started = clock_ns()
            times, outputs, failure = self.one_call_pair(role, case, timeout)
            if failure:
                return failure
            last = sum(times.values())
            if own_warm_up and not calls and last >= settings["own_warm_up_s"]:
                self.own_warm_up = True
                return case, (times, outputs), case_started
            calls += 1
        return last

    def _wrong_output(self, results: dict, case) -> str:
        labels = [label for call in self.run_.pack.CALLS if call.name in self.timed for label in call.sent]
        for label in labels:
            expected = results["reference"][1][label].array
            verdict = compare(label, results["student"][1][label], expected, self.run_.tolerance, case.where)
            if not verdict.passed:
                return verdict.message
        return ""


def _timed(outcome: CallOutcome) -> float:
    """A call's timed figure: the worker's CPU time (the wall time only if the kernel's
    clock could not be read, which happens only for a worker that is gone)."""
    return outcome.cpu_s if outcome.cpu_s is not None else outcome.elapsed_s


def _exposed_grader_files() -> list[str]:
    """The grader's own folders (the harness, the references) where a uid with no
    privilege can read them: without namespaces or Landlock, only their modes keep
    the student's uid out (the Gradescope set-up and the Docker image make them 0700)."""
    import reference

    folders = [os.path.dirname(HARNESS_DIR), list(reference.__path__)[0]]
    return [path for path in folders if isolation.readable_by_others(path)]


def _chown_tree(path: str, uid: int) -> None:
    for directory, _, files in os.walk(path):
        os.chown(directory, uid, uid)
        for name in files:
            os.chown(os.path.join(directory, name), uid, uid)


def environment() -> dict:
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{info.get('name', 'unknown')} {info.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode; the name is informative only
        pass
    cpu_model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas, "cpu_model": cpu_model}
