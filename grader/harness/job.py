"""The harness's job, typed: what the host's configuration sends (``GradingJob``) and
what the sandbox and the host add (``SandboxKeys``, ``MachineKeys``), read by the harness
as one ``HarnessJob``. The host builds it through these types
(``GradingConfig.harness_job``) and the harness checks it again before anything runs, so a
renamed or mistyped field fails as the grader's error at once, naming the field, instead
of as a KeyError somewhere inside the sandbox. Standard library only.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from . import assignments

# Keys the sandbox backends add to the job (where the submission is, which core, which
# uids, what to hide): checked by their backends, passed through here.
SANDBOX_KEYS = frozenset({"submission_root", "entry", "cpu", "uid_base", "isolate_namespaces", "scratch_parent",
                          "timing_lock", "hide_paths"})
# Keys the host adds: "machine", {host, cached, quiet_wait_s, drift}: this host's name, its cached machine
# figures (grader.grading.machine_cache), which the harness uses only if their identity is its own,
# how long its timing may wait for the other cores to go quiet (harness.contention), and this host's
# measured spread between gradings (harness.drift; None: the configured constant alone).
HOST_KEYS = frozenset({"machine"})


class JobError(ValueError):
    pass


def _typed(cls, raw: Any, where: str, extra: frozenset[str] = frozenset()):
    """``cls`` built from the JSON object ``raw``: exactly its fields (plus ``extra``), each
    of its declared type (an int is accepted where a float is declared)."""
    if not isinstance(raw, dict):
        raise JobError(f"{where or 'the job'} must be an object, not {type(raw).__name__}")
    names = {f.name for f in fields(cls)}
    unknown, missing = sorted(set(raw) - names - extra), sorted(names - set(raw))
    if unknown or missing:
        raise JobError(f"{where.rstrip('.') or 'the job'}: unknown fields {unknown}, missing fields {missing}")
    values = {}
    for f in fields(cls):
        value, kind = raw[f.name], f.type
        if kind in _NESTED:
            value = _typed(_NESTED[kind], value, f"{where}{f.name}.")
        elif not _is(value, kind):
            raise JobError(f"{where}{f.name} must be {kind}, not {value!r}")
        values[f.name] = value
    return cls(**values)


def _is(value: Any, kind: str) -> bool:
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return type(value).__name__ == kind


@dataclass(frozen=True)
class TimingJob:
    enabled: bool
    size: str
    budget_s: float
    min_trials: int
    max_trials: int
    warmup_s: float
    pairs: int
    phase_s: float
    own_warm_up_s: float
    between_gradings_cv: float


@dataclass(frozen=True)
class LimitsJob:
    memory_bytes: int
    address_space_overhead_bytes: int
    file_size_bytes: int
    open_files: int
    cpu_seconds: int
    import_timeout_s: float
    call_allowance_s: float
    call_time_factor: float
    output_bytes: int
    scratch_bytes: int
    deadline_s: float


@dataclass(frozen=True)
class GradingJob:
    assignment: str
    seed: int
    hidden_cases: int
    tolerance: float
    timing: TimingJob
    limits: LimitsJob
    worker_address_space_bytes: int  # the pack's figure, so the sandbox can size a container blind
    forbidden_modules: list  # module patterns the student worker's hook watches for (call_watch)
    packages: list  # distributions the student may import besides numpy and the standard library (student_packages)
    # A bundle's layers (assignments.bundle): {key: {"tolerance": float, "timed": bool}}, every
    # layer of the bundle; {} for a single pack (``tolerance`` and ``timing.enabled`` say it all).
    layers: dict
    pack_settings: dict  # the course's choices among the pack's SETTINGS (assignments.configure)

    @classmethod
    def from_json(cls, raw: Any) -> "GradingJob":
        job = _typed(cls, raw, "", extra=SANDBOX_KEYS | HOST_KEYS)
        pack = assignments.get(job.assignment)  # UnknownAssignment: a ValueError too
        if job.timing.size not in pack.SPEED_SIZES:
            raise JobError(f"timing.size {job.timing.size!r} is not a size of {job.assignment}")
        keys = [layer.key for layer in pack.layers] if assignments.is_bundle(pack) else []
        if sorted(job.layers) != sorted(keys) or not all(
                isinstance(spec, dict) and set(spec) == {"tolerance", "timed"} and _is(spec["tolerance"], "float")
                and isinstance(spec["timed"], bool) for spec in job.layers.values()):
            raise JobError(f"layers must give tolerance and timed for each of {keys or 'no layers'}, not {job.layers!r}")
        problem = assignments.settings_problem(pack, job.pack_settings)
        if problem:
            raise JobError(f"pack_settings {problem}")
        return job

    def as_json(self) -> dict:
        return asdict(self)


_NESTED = {"TimingJob": TimingJob, "LimitsJob": LimitsJob}


@dataclass(frozen=True)
class SandboxKeys:
    """What the sandbox backend adds (see SANDBOX_KEYS): where the submission is, which core,
    which uids, what to hide. The defaults are what a backend that leaves a key out means."""

    submission_root: str
    entry: str
    cpu: int | None = None  # None: the last core this process may use
    uid_base: int | None = None  # the student's uid, the reference's the next; None: our own uid
    isolate_namespaces: bool = False  # False inside a container: the container is the namespace
    scratch_parent: str | None = None  # the caller's folder for our scratch; None: the system's
    timing_lock: str | None = None  # a folder shared by a batch's gradings (timing_lock.TimingLock)
    hide_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class MachineKeys:
    """What the host adds under "machine" (see HOST_KEYS)."""

    host: str = ""
    cached: dict | None = None
    quiet_wait_s: float = 0.0
    drift: dict | None = None  # this host's measured between-gradings spread (harness.drift), if any


_OPTIONAL = {"int | None": (int,), "str | None": (str,), "dict | None": (dict,), "bool": (bool,), "str": (str,),
             "float": (int, float), "tuple[str, ...]": (list, tuple)}


def _keys(cls, raw: dict, where: str):
    """``cls`` from the keys of ``raw`` it declares, each checked against its declared type;
    a key left out takes the field's default (a required one missing is an error)."""
    values = {}
    for f in fields(cls):
        if f.name not in raw:
            if f.default is MISSING:
                raise JobError(f"{where}{f.name} is missing")
            continue
        value, allowed = raw[f.name], _OPTIONAL[f.type]
        if not (value is None and "None" in f.type) and (
                isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed)):
            raise JobError(f"{where}{f.name} must be {f.type}, not {value!r}")
        if f.type == "tuple[str, ...]":
            if not all(isinstance(item, str) for item in value):
                raise JobError(f"{where}{f.name} must be a list of paths, not {value!r}")
            value = tuple(value)
        values[f.name] = value
    return cls(**values)


@dataclass(frozen=True)
class HarnessJob:
    """The whole job as the harness reads it: the grading, where the sandbox put it, and
    what the host knows of its machine."""

    grading: GradingJob
    sandbox: SandboxKeys
    machine: MachineKeys

    @classmethod
    def from_json(cls, raw: Any) -> "HarnessJob":
        grading = GradingJob.from_json(raw)
        return cls(grading=grading, sandbox=_keys(SandboxKeys, raw, ""),
                   machine=_keys(MachineKeys, raw.get("machine") or {}, "machine."))
