"""Where the workers run: the scratch folder, their uids, the root they see, Landlock,
the student's disk cap, and the report of what isolation this run really has.

``Workspace.prepare`` builds it all from the job and what this process may do
(isolation.probe); ``worker_spec`` describes a worker in it; ``close`` takes it down.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field

from . import disk_cap, isolation, landlock, lockdown, runtime_copy, seccomp, student_packages, tree_removal
from .job import HarnessJob
from .lockdown import (DEVICES, SYSTEM_DIRS, WorkerLimits, build_worker_root, cover_shared_dirs, hide_path,
                       isolate_namespaces, mount_scratch, private_proc)
from .workers import WORKER_FILES, WorkerSpec

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


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


class Workspace:
    """The folders, uids and confinement of one run's two workers.

    Everything here is set once, by ``prepare``, before any student code runs; the
    conductor (run.Run) and the workers only read it. The steps follow the isolation
    ladder (isolation.py): namespaces and a chroot where allowed, else private uids,
    Landlock and a disk budget, else what the report says is missing.
    """

    def __init__(self, job: HarnessJob, pack, packages: dict[str, student_packages.Resolved]):
        self.job, self.where, self.pack, self.packages = job, job.sandbox, pack, packages
        self.scratch = ""
        self.made_mounts = False
        self.worker_root: str | None = None  # the allow-list root workers are chrooted into
        self.landlock: dict = {}  # role -> landlock.Ruleset, where Landlock replaces the chroot
        self.disk_budget: disk_cap.Budget | None = None  # the student's, where no tmpfs caps the scratch
        self.syscall_filter: seccomp.Filter | None = None
        self.student_uid: int | None = None
        self.reference_uid: int | None = None
        self.cpu: int | None = None

    # -- building it -------------------------------------------------------------------

    def prepare(self) -> Sandboxing:
        cpu = self.where.cpu
        if cpu is None:
            cpu = max(os.sched_getaffinity(0))  # the last allowed core, as the CLI says
        os.sched_setaffinity(0, {cpu})  # harness and both workers share one core (see workers)
        self.cpu = cpu
        # The strongest isolation this process can have (see isolation): a missing
        # privilege lowers the rung, it never fails the grading.
        abilities = isolation.probe(try_namespaces=self.where.isolate_namespaces)
        namespaces = abilities.namespaces
        if namespaces:
            isolate_namespaces()
        on_disk_budget = self._make_scratch(namespaces, abilities)
        uid_base = self.where.uid_base if abilities.private_uids else None
        self.student_uid = uid_base
        self.reference_uid = uid_base + 1 if uid_base is not None else None
        entries = self._package_entries()
        self._choose_runtime(entries, uid_base, namespaces)
        self._copy_code()
        self._build_root(namespaces, uid_base, entries)
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
            scratch, limits = self.scratch, self.job.grading.limits
            self.disk_budget = disk_cap.Budget(limits.scratch_bytes, limits.file_size_bytes,
                                               os.statvfs(scratch).f_bsize,
                                               free_space=lambda: disk_cap.free_bytes(scratch))
        if uid_base is None:  # workers share our uid: keep our memory out of reach of /proc/<pid>/mem and ptrace
            lockdown.not_dumpable()
        return self._report(abilities, namespaces, uid_base, cpu)

    def _make_scratch(self, namespaces: bool, abilities) -> bool:
        """The run's scratch folder (a size-capped tmpfs under namespaces); returns whether the
        student's files go to the real disk under a budget instead."""
        # The sandbox backend owns scratch_parent and removes it after we exit (sandbox/process.py).
        self.scratch = tempfile.mkdtemp(prefix="convgrade-", dir=self.where.scratch_parent)
        self.made_mounts = namespaces
        scratch_bytes = self.job.grading.limits.scratch_bytes
        if namespaces:
            mount_scratch(self.scratch, scratch_bytes)
        # Where the student's files go to the real disk (no tmpfs: see the budget below), the
        # disk must hold its budget and the grader's reserve; else not gradable, said plainly.
        on_disk_budget = not namespaces and self.where.isolate_namespaces and abilities.disk_cap
        if on_disk_budget:
            disk_cap.check_room(self.scratch, scratch_bytes)
        os.chmod(self.scratch, 0o711)
        return on_disk_budget

    def _choose_runtime(self, entries, uid_base: int | None, namespaces: bool) -> None:
        # Without a chroot the workers open the runtime's real paths as their own uid.
        self.runtime = runtime_copy.current()
        if uid_base is not None and not namespaces and not runtime_copy.reachable_by_private_uid(entries):
            self.runtime = runtime_copy.private_copy(entries)

    def _copy_code(self) -> None:
        """The worker's files, each role's package view, the student's submission and the
        references, each home owned by its worker's uid."""
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
        shutil.copytree(self.where.submission_root, self.student_root, symlinks=False)
        self.reference_home = self._make_dir("reference", 0o700)
        self.reference_root = os.path.join(self.reference_home, "code")
        import reference

        shutil.copytree(list(reference.__path__)[0], os.path.join(self.reference_root, "reference"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for home, uid in ((self.student_home, self.student_uid), (self.reference_home, self.reference_uid)):
            if uid is not None:
                _chown_tree(home, uid)

    def _build_root(self, namespaces: bool, uid_base: int | None, entries) -> None:
        """Under namespaces: the allow-list root (with private uids), hidden host paths, covered
        shared folders and a private /proc."""
        self.worker_root = None
        runtime = self._runtime_folders()
        if namespaces and uid_base is not None:
            self.worker_root = self._make_dir("root", 0o755)
            build_worker_root(self.worker_root, read_only=runtime, writable=[self.student_home, self.reference_home],
                              packages=package_sites(entries))
        if namespaces:
            for path in self.where.hide_paths:
                if os.path.exists(path):
                    hide_path(path)
            cover_shared_dirs(self.scratch, runtime=[sys.prefix, sys.base_prefix, *(entry.path for entry in entries)])
            private_proc()

    def _report(self, abilities, namespaces: bool, uid_base: int | None, cpu: int) -> Sandboxing:
        pid_namespace = os.getpid() == 1 or not self.where.isolate_namespaces  # else: a container's
        exposed = [] if namespaces or self.landlock or uid_base is None else _exposed_grader_files()
        described = isolation.describe(abilities, pid_namespace=pid_namespace,
                                       landlock_used=abilities.landlock_abi if self.landlock else 0,
                                       runtime_copied=self.runtime.copied, exposed=exposed,
                                       inside_container=not self.where.isolate_namespaces,
                                       disk_cap_bytes=self.disk_budget.cap if self.disk_budget else None)
        return Sandboxing(private_uids=uid_base is not None, namespaces=namespaces, cpu=cpu,
                          pid_namespace=pid_namespace,
                          seccomp=seccomp.description() if self.syscall_filter else "", notes=described.lacks,
                          isolation=described.__dict__)

    def _package_entries(self) -> tuple[student_packages.Entry, ...]:
        """Every package file or folder some worker may open (student_packages)."""
        every = {entry.path: entry for resolved in self.packages.values() for entry in resolved.entries}
        return tuple(every.values())

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

    # -- describing a worker in it -----------------------------------------------------

    def worker_spec(self, role: str) -> WorkerSpec:
        """How to start the ``role`` worker ("student" or "reference") on this run's core."""
        request, response = self.pack.arena_sizes()
        if role == "student":
            root, entry = self.student_root, self.where.entry
            functions = tuple(self.pack.STUDENT_FUNCTIONS.values())
        else:
            root, entry = self.reference_root, self.pack.REFERENCE_ENTRY
            functions = tuple(self.pack.REFERENCE_FUNCTIONS.values())
        return WorkerSpec(role=role, worker_dir=self.worker_dir, root=root, entry=entry, functions=functions,
                          workdir=self._home(role), limits=self._limits(role), request_bytes=request,
                          response_bytes=response, output_limit=self.job.grading.limits.output_bytes,
                          executable=self.runtime.executable, runtime_env=tuple(self.runtime.env.items()),
                          packages=self.views[role], worker_packages=self.views["worker"],
                          disk_budget=self.disk_budget if role == "student" else None)

    def _home(self, role: str) -> str:
        return self.student_home if role == "student" else self.reference_home

    def _limits(self, role: str) -> WorkerLimits:
        limits = self.job.grading.limits
        uid = self.student_uid if role == "student" else self.reference_uid
        return WorkerLimits(
            address_space_bytes=self.pack.worker_address_space_bytes(asdict(limits)),
            file_size_bytes=limits.file_size_bytes,
            open_files=limits.open_files,
            cpu_seconds=limits.cpu_seconds,
            uid=uid,
            # One task: no threads, no child processes, so no helper can compute on
            # another core or while the harness is not looking. Under the grader's own uid
            # (no private uids) the count includes the grader's processes: still none can start.
            tasks=1,
            cpu=self.cpu,
            # The student's worker before the reference's, should a container's memory run out.
            oom_score_adj=1000 if uid == self.student_uid else 500,
            root=self.worker_root,
            workdir=self._home(role),
            syscall_filter=self.syscall_filter,
            landlock=self.landlock.get(role),
        )

    # -- taking it down ----------------------------------------------------------------

    def close(self) -> None:
        for ruleset in self.landlock.values():
            ruleset.close()
        # NEVER delete recursively after mounting: a bind mount of the interpreter's
        # folder lives under the scratch, and rmtree would delete through it into the
        # real files. The private tmpfs vanishes with our namespace; the host removes
        # the empty parent. Without mounts, deleting is safe; folders the student locked
        # (mode 000 under our own uid) are opened up first. What stays, the host reports.
        if self.scratch and not self.made_mounts:
            tree_removal.remove_tree(self.scratch)


def package_sites(entries: tuple[student_packages.Entry, ...]) -> dict[str, list[str]]:
    """{site-packages folder: its entries the workers may see}, for every folder of
    packages this interpreter knows: the chroot shows those entries and nothing else."""
    sites: dict[str, list[str]] = {site: [] for site in student_packages.site_folders(entries)}
    for entry in entries:
        sites[entry.site].append(entry.name)
    return sites


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
