"""The grading configuration: rubric, tolerances, limits and timing budget, validated.

Defaults come from the assignment's pack (``grader.harness.assignments``); a course
overrides any part with a JSON file (``--config``). Its hash is recorded in every
result, so a batch knows when a regrade is needed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from grader.errors import UsageError
from grader.harness import assignments
from grader.harness.assignments.bundle import bundle_call
from grader.harness.job import GradingJob
from grader.grading.result import Strict

GiB = 1 << 30
MiB = 1 << 20


class SpeedRubric(Strict):
    """Optional points for speed: ``thresholds`` are (speedup_vs_reference, fraction of
    the function's speed points) pairs; the highest threshold reached counts."""

    enabled: bool = False
    points: float = Field(0, ge=0, description="Speed points for each timed call of the pack (e.g. forward and backward).")
    thresholds: list[tuple[float, float]] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _fractions(cls, thresholds: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for speedup, fraction in thresholds:
            if speedup <= 0 or not 0 <= fraction <= 1:
                raise ValueError(f"threshold ({speedup}, {fraction}): speedup must be > 0 and fraction in [0, 1]")
        return sorted(thresholds)


class LayerRubric(Strict):
    """One layer of a bundle (``assignment`` such as cs231n-a2): its weight, its own pack's
    rubric groups (scaled to the weight) and its tolerance. Left out: the defaults."""

    weight: float | None = Field(None, ge=0, description=(
        "Points of the layer in all; default: 100 split equally over the bundle's layers."))
    points: dict[str, float] = Field(default_factory=dict, description=(
        "The layer's pack's rubric groups (forward_hidden, ...), relative to each other: scaled to add up to weight."))
    tolerance: float | None = Field(None, gt=0, lt=1, description="Default: the layer's pack's.")

    @field_validator("points")
    @classmethod
    def _non_negative(cls, points: dict[str, float]) -> dict[str, float]:
        return Rubric._non_negative(points)


class Rubric(Strict):
    """Defaults here are the default pack's; ``GradingConfig`` fills them from the pack it names."""

    points: dict[str, float] = Field(default_factory=lambda: dict(assignments.default().DEFAULT_RUBRIC["points"]))
    tolerance: float = Field(assignments.default().DEFAULT_RUBRIC["tolerance"], gt=0, lt=1)
    speed: SpeedRubric = Field(default_factory=SpeedRubric)
    hidden_visibility: Literal["visible", "hidden", "after_due_date", "after_published"] = "visible"
    layers: dict[str, LayerRubric] | None = Field(None, description=(
        "A bundle's rubric, by layer (the bundle's layer keys): each one's weight, groups and tolerance; points "
        "then holds the groups the scoring reads ('<layer>.<group>'), computed from it. Only for a bundle."))

    @field_validator("points")
    @classmethod
    def _non_negative(cls, points: dict[str, float]) -> dict[str, float]:
        negative = [f"{group} is {value:g}" for group, value in points.items() if value < 0]
        if negative:
            raise ValueError(f"{', '.join(negative)}: points must be >= 0")
        return points


class Limits(Strict):
    memory_bytes: int = Field(GiB, ge=64 * MiB, description="Memory the student's code may allocate.")
    # Python + numpy + OpenBLAS map about 110 MB of address space in a worker (measured).
    address_space_overhead_bytes: int = Field(256 * MiB, description="Python, numpy and BLAS mappings on top.")
    file_size_bytes: int = Field(16 * MiB, ge=0)
    open_files: int = Field(64, ge=16)
    cpu_seconds: int = Field(600, ge=1)
    import_timeout_s: float = Field(30, gt=0)
    call_allowance_s: float = Field(10, gt=0, description="Fixed part of each call's time limit.")
    call_time_factor: float = Field(2000, gt=0, description="Times the reference's time, added to the allowance.")
    output_bytes: int = Field(64 * 1024, ge=1024, description="Student output kept per stream.")
    scratch_bytes: int = Field(256 * MiB, ge=16 * MiB)
    deadline_s: float = Field(900, gt=0, description="Wall-clock limit for one whole grading.")


class TimingSettings(Strict):
    enabled: bool = True
    size: Literal["speed-cell", "small"] = Field(
        "speed-cell", description="Timed input size: the notebook's speed cell, or a small one for quick tests.")
    budget_s: float = Field(6.0, gt=0, description=(
        "Time spent in timed trials past the minimum count, all pairs (their calls' CPU time, so load on the "
        "machine does not change how many trials a grading gets)."))
    min_trials: int = Field(2, ge=1, description="Timed trials in all, at least (spread over the pairs, one each at least).")
    # 8 per pair by default: the spread between pairs, not more trials in one, is what
    # a figure's uncertainty is made of (and the grading costs about what one pair of 41 did).
    max_trials: int = Field(32, ge=1, description="Timed trials in all, at most (shared among the pairs).")
    warmup_s: float = Field(0.05, ge=0, description="Warm-up of each side in each worker pair (at least one call).")
    pairs: int = Field(4, ge=1, le=16, description=(
        "Fresh student and reference worker pairs the timing is spread over; the interval is a regrade interval "
        "over their figures (one pair: an interval over its trials only)."))
    # The cap of the cost limit (call_budget): a 2-second loop's trial takes about 8 s of
    # calls, so past two pairs of one trial no third starts; fast code (a trial of 20-300 ms)
    # never reaches it.
    phase_s: float = Field(15.0, gt=0, description=(
        "CPU time of the timing phase's timed trials (both sides; warm-ups and untimed call pairs are not "
        "counted) after which no further worker pair is started, once two pairs and min_trials ran: slow code "
        "gets fewer pairs, fast code all of them."))
    # What a first call costs once (page faults of its first big allocations, a lazy import)
    # is milliseconds: under a few per cent of a 1-second call pair, and it stays in the
    # student's own figure, never the reference's. Below it, warm-up calls are discarded.
    own_warm_up_s: float = Field(1.0, ge=0, description=(
        "A student call pair (forward and backward) taking at least this much CPU time is its own warm-up: "
        "it counts as its worker pair's first trial instead of being thrown away."))
    layers: list[str] | None = Field(None, description=(
        "A bundle's layers to time (its layer keys); default: the layers the course races (the bundle's packs in "
        "the registry's RACING). Only for a bundle."))
    # Timing stops when the interval is narrow enough for ranking at the figure's speed, or
    # when it has cost a few of the student's own call pairs (harness.timing.TimingPlan).
    call_budget: float = Field(3.5, gt=0, description=(
        "Past two worker pairs, no further pair starts when the timing phase's timed trials would pass this "
        "many of the student's own call pairs (CPU time; at least half of phase_s, at most phase_s)."))
    precision: float = Field(0.03, gt=0, lt=1, description=(
        "Regrade interval half-width (relative) that stops the timing, once two worker pairs ran, for figures "
        "2x slower than the reference's (closer ones get every pair); the pairs' spread must fit beside "
        "between_gradings_cv, counted as at least 2%."))
    precision_slow: float = Field(0.30, gt=0, lt=1, description=(
        "The same for code 200x or more slower than the reference (loops, ranked among others that differ by "
        "factors); log-linear in the slowness between 2x and 200x."))
    between_gradings_cv: float = Field(0.02, ge=0, le=0.5, description=(
        "Spread of a figure between gradings that one grading cannot see (other load on the machine), added "
        "in quadrature to the interval of several pairs. A floor: where `convgrade doctor --timing` measured "
        "this host's drift, the larger of the two is used."))

    @model_validator(mode="after")
    def _order(self) -> "TimingSettings":
        if self.max_trials < self.min_trials:
            raise ValueError(f"max_trials {self.max_trials} is below min_trials {self.min_trials}")
        return self


class WhatIfSettings(Strict):
    """What-if feedback: when the first error is mechanical (Python 2, removed NumPy names,
    mixed tabs, an unused missing import, merge-conflict markers), a repaired copy is
    graded too and reported beside the score, never in it."""

    enabled: bool = True
    deadline_s: float = Field(60, gt=0, description="Wall-clock limit of each repaired copy's grading "
                                                     "(correctness checks only, never timed).")


_DOTTED_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class ForbiddenCalls(Strict):
    """Calls the graded functions may not make, e.g. ``scipy.signal`` or the course's own
    fast layers. Found in the source (imports, attribute chains, aliases) and watched at run
    time in the student's worker during correctness checks; the evidence is for staff only."""

    modules: list[str] = Field(default_factory=list, description=(
        "Dotted names: a module forbids everything in it (scipy.signal), a function itself (scipy.signal.correlate; "
        "at run time only whole modules are seen)."))
    policy: Literal["flag", "zero"] = Field("flag", description=(
        "flag: report the evidence to staff, score unchanged; zero: a function with evidence scores 0 on its checks."))

    @field_validator("modules")
    @classmethod
    def _dotted(cls, modules: list[str]) -> list[str]:
        bad = [m for m in modules if not re.match(_DOTTED_NAME, m)]
        if bad:
            raise ValueError(f"not dotted Python names: {bad}")
        return modules


_DISTRIBUTION_NAME = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"


class Course(Strict):
    """How the course presents results. Not part of grading: left out of the config hash,
    so renaming the course never regrades anyone."""

    title: str | None = Field(None, description="Shown on the leaderboard instead of the assignment id.")
    gradebook_column: str | None = Field(
        None, description="The Canvas gradebook column, e.g. 'Layers (123456)' to update that assignment.")
    rank_by: list[str] | None = Field(None, min_length=1, description=(
        "The timed calls the class board ranks by (the geometric mean of their speedups), as the result names "
        "them, e.g. [\"maxpool/forward\", \"maxpool/backward\"] for a bundle. Default: every timed call of a "
        "pack; a bundle's first timed layer's calls (its first racing layer's, as its single-pack board ranked). "
        "Every timed call keeps its own board either way."))


class GradingConfig(Strict):
    """A course's whole grading configuration, read from one JSON file (docs/course-staff.md):
    the pack, rubric, limits, timing, what-if, forbidden calls, packages and the course's own
    words. Over 100 lines because each setting's validation and its effect on the config
    hash (what forces a regrade) are stated beside the setting."""

    assignment: str = Field(assignments.DEFAULT, description="The assignment pack or bundle: " + ", ".join(assignments.names()))
    rubric: Rubric = Field(default_factory=Rubric)
    hidden_cases: int = Field(len(assignments.default().HIDDEN_SHAPES), ge=1, le=64)
    limits: Limits = Field(default_factory=Limits)
    timing: TimingSettings = Field(default_factory=TimingSettings)
    seed_secret: str | None = Field(None, exclude=True, repr=False, description=(
        "Course secret the hidden cases' seed is derived from (with the submission's hash); the environment "
        "variable CONVGRADE_SEED_SECRET takes precedence. Never written into results or hashes."))
    what_if: WhatIfSettings = Field(default_factory=WhatIfSettings)
    forbidden: ForbiddenCalls = Field(default_factory=ForbiddenCalls)
    packages: list[str] = Field(default_factory=list, description=(
        "Distributions the student's code may import besides numpy and the standard library (with what they "
        "require), e.g. [\"scipy\"]; the same on every backend and isolation rung. Each must be installed where "
        "the harness runs (the process backend: the grader's environment); anything else a student imports is "
        "'not installed in the grading environment', however the grader's own environment was set up."))
    pack_settings: dict[str, str] = Field(default_factory=dict, description=(
        "Choices a pack offers (its SETTINGS), by name; in a bundle '<layer>.<name>'. cs231n-dropout's "
        "p_meaning: 'keep' (p is the keep probability, the course since 2018; the default) or 'drop' (2016-2017)."))
    course: Course = Field(default_factory=Course)

    @field_validator("packages")
    @classmethod
    def _distributions(cls, names: list[str]) -> list[str]:
        bad = [name for name in names if not re.match(_DISTRIBUTION_NAME, name)]
        if bad:
            raise ValueError(f"not distribution names: {bad}")
        return names

    @model_validator(mode="before")
    @classmethod
    def _pack_defaults(cls, raw: Any) -> Any:
        """The named pack's rubric, tolerance and hidden-case count fill what the file leaves out."""
        if not isinstance(raw, dict) or not isinstance(raw.get("assignment", assignments.DEFAULT), str):
            return raw
        name = raw.get("assignment", assignments.DEFAULT)
        if name not in assignments.names():
            raise ValueError(f"assignment: unknown assignment {name!r}; known: {', '.join(sorted(assignments.names()))}")
        pack = assignments.get(name)
        rubric = raw.get("rubric", {})
        if isinstance(rubric, Rubric):
            rubric = rubric.model_dump()
        if assignments.is_bundle(pack):
            return {"hidden_cases": len(pack.HIDDEN_SHAPES), **raw, "rubric": _bundle_rubric(pack, rubric)}
        if isinstance(rubric, dict) and rubric.get("layers") is not None:
            raise ValueError(f"rubric.layers is for a bundle of packs ({', '.join(assignments.BUNDLES)}), "
                             f"not the single pack {name}: set rubric.points")
        if isinstance(rubric, dict):
            points = rubric.get("points", {})
            if isinstance(points, dict):
                unknown = set(points) - set(pack.DEFAULT_RUBRIC["points"])
                if unknown:
                    raise ValueError(f"unknown rubric groups {sorted(unknown)} for {name}; "
                                     f"known: {sorted(pack.DEFAULT_RUBRIC['points'])}")
                points = {**pack.DEFAULT_RUBRIC["points"], **points}
            rubric = {"tolerance": pack.DEFAULT_RUBRIC["tolerance"], **rubric, "points": points}
        return {"hidden_cases": len(pack.HIDDEN_SHAPES), **raw, "rubric": rubric}

    @model_validator(mode="after")
    def _fits_pack(self) -> "GradingConfig":
        pack = assignments.get(self.assignment)
        sizes = pack.SPEED_SIZES
        if self.timing.size not in sizes:
            raise ValueError(f"timing.size {self.timing.size!r} is not a size of {self.assignment}: {', '.join(sizes)}")
        if self.timing.layers is not None:
            keys = [layer.key for layer in pack.layers] if assignments.is_bundle(pack) else []
            unknown = [key for key in self.timing.layers if key not in keys]
            if unknown:
                raise ValueError(f"timing.layers {unknown}: not layers of {self.assignment}"
                                 + (f" (its layers: {', '.join(keys)})" if keys else " (a single pack: leave it out)"))
        problem = assignments.settings_problem(pack, self.pack_settings)
        if problem:
            raise ValueError(f"pack_settings {problem}")
        if self.course.rank_by is not None:
            timed = [name for _, _, name in self.timed_calls()]
            unknown = [call for call in self.course.rank_by if call not in timed]
            if unknown:
                raise ValueError(f"course.rank_by {unknown}: not timed calls of {self.assignment} "
                                 f"(its timed calls: {', '.join(timed) or 'none'})")
        return self

    def timed_calls(self) -> list[tuple[Any, str, str]]:
        """(pack, its call, the call as the result names it) of every timing row a grading
        reports, in order: a single pack's calls, or each timed layer's ("<layer>/forward")."""
        pack = self.pack()
        if not assignments.is_bundle(pack):
            return [(pack, call, call) for call in pack.STUDENT_FUNCTIONS]
        timed = self.timed_layers()
        return [(layer.pack, call, bundle_call(layer.key, call)) for layer in pack.layers if layer.key in timed
                for call in layer.pack.STUDENT_FUNCTIONS]

    def timed_layers(self) -> list[str]:
        """A bundle's layers that are timed: timing.layers, or by default those the course races."""
        pack = self.pack()
        if not assignments.is_bundle(pack):
            return []
        if self.timing.layers is not None:
            return [layer.key for layer in pack.layers if layer.key in self.timing.layers]
        return [layer.key for layer in pack.layers if layer.races]

    def pack(self):
        """The assignment pack this configuration grades."""
        return assignments.get(self.assignment)

    def config_hash(self) -> str:
        # No forbidden calls (the default) leaves the hash as it was before the option existed:
        # adding the option regrades nobody; setting it regrades everyone, as it should.
        excluded: dict[str, Any] = {"course": True} | ({"forbidden": True} if self.forbidden == ForbiddenCalls() else {})
        excluded |= {"packages": True} if not self.packages else {}  # likewise: numpy alone, the default
        excluded |= {"pack_settings": True} if not self.pack_settings else {}  # likewise: the packs' defaults
        # A single pack's rubric has no layers and its timing no layer list: both left out, as before bundles.
        if self.rubric.layers is None:
            excluded["rubric"] = {"layers"}
        if self.timing.layers is None:
            excluded["timing"] = {"layers"}
        canonical = json.dumps(self.model_dump(mode="json", exclude=excluded), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def harness_job(self, seed: int) -> dict:
        """The part of the harness's job that comes from configuration, built through the
        harness's own type (``grader.harness.job``), which the harness checks again."""
        return GradingJob.from_json({
            "assignment": self.assignment,
            "seed": seed,
            "hidden_cases": self.hidden_cases,
            "tolerance": self.rubric.tolerance,
            "timing": self.timing.model_dump(exclude={"layers"}),  # the harness reads timed layers from "layers"
            "limits": self.limits.model_dump(),
            # Module patterns the student worker's hook watches for during check calls (call_watch).
            "forbidden_modules": list(self.forbidden.modules),
            # What the student's worker may import besides numpy (student_packages): its view of packages.
            "packages": list(self.packages),
            "pack_settings": dict(self.pack_settings),
            # The sandbox sizes a container from it without knowing the assignment.
            "worker_address_space_bytes": self.pack().worker_address_space_bytes(self.limits.model_dump()),
            # A bundle's layers: each one's tolerance, and whether it is timed.
            "layers": {key: {"tolerance": spec.tolerance, "timed": key in self.timed_layers()}
                       for key, spec in (self.rubric.layers or {}).items()},
        }).as_json()

    def warnings(self) -> list[str]:
        """Settings that are valid but almost certainly not what the course meant."""
        speed = self.rubric.speed
        found = []
        if speed.enabled and speed.points == 0:
            found.append("rubric.speed.enabled is true but rubric.speed.points is 0: speed earns nothing")
        elif speed.enabled and not speed.thresholds:
            found.append(f"rubric.speed.thresholds is empty: no speed earns any of the {speed.points:g} speed points")
        elif not speed.enabled and speed.points > 0:
            found.append(f"rubric.speed.points is {speed.points:g} but rubric.speed.enabled is false: speed earns nothing")
        groups = round(math.fsum(self.rubric.points.values()), 6)
        maximum = self.max_score()
        if maximum != groups:
            found.append(f"the maximum score is {maximum:g}, not the {groups:g} the rubric groups add up to: "
                         f"speed adds {speed.points:g} points for each of the pack's {len(self.timed_calls())} timed calls")
        return found

    def max_score(self) -> float:
        """What a perfect, timed submission scores: the groups' points plus the speed points."""
        # Speed points come per timing row: one per call of the pack (a bundle's: of its timed layers).
        speed = len(self.timed_calls()) * self.rubric.speed.points if self.rubric.speed.enabled else 0
        return round(math.fsum([*self.rubric.points.values(), speed]), 6)

    @classmethod
    def load(cls, path: Path | None, assignment: str | None = None) -> "GradingConfig":
        """The defaults overridden by the JSON file at ``path``; ``assignment`` (the
        command line's ``--assignment``) names the pack, and must agree with the file's.

        Raises UsageError listing every problem, one line each: the option's path, what
        is wrong, and for an unknown name the closest known one."""
        if path is None:
            return cls._for(assignment)
        try:
            raw = json.loads(Path(path).read_text())
        except FileNotFoundError as exc:
            raise UsageError(f"config file {path} does not exist") from exc
        except OSError as exc:
            raise UsageError(f"config file {path} cannot be read: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise UsageError(f"config file {path} is not valid JSON{where}: "
                             f"{getattr(exc, 'msg', None) or exc.reason}") from exc
        if assignment is not None and isinstance(raw, dict):
            if raw.get("assignment", assignment) != assignment:
                raise UsageError(f"config file {path} is for assignment {raw['assignment']!r}, "
                                 f"but --assignment says {assignment!r}")
            raw = {**raw, "assignment": assignment}
        problems: list[str] = []
        named = raw.get("assignment") if isinstance(raw, dict) else None
        pack_name = named if named in assignments.names() else assignments.DEFAULT
        known = _without_unknown_keys(raw, cls, "", problems, pack_name)
        try:
            config = cls.model_validate(known)
        except ValidationError as exc:
            problems += [_one_line(error) for error in exc.errors()]
        if problems:
            count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            raise UsageError(f"config file {path} has {count}:\n" + "\n".join(f"  {p}" for p in problems))
        return config

    @classmethod
    def _for(cls, assignment: str | None) -> "GradingConfig":
        if assignment is None:
            return cls()
        try:
            return cls(assignment=assignment)
        except ValidationError as exc:
            raise UsageError("; ".join(_one_line(error) for error in exc.errors())) from exc


def _bundle_rubric(bundle, rubric: Any) -> Any:
    """A bundle's rubric: its layers resolved (bundle.resolve_rubric) and the flat groups the
    scoring reads computed from them. Points given directly must be those (a dumped config
    read back): a course sets a bundle's points per layer, in rubric.layers."""
    if not isinstance(rubric, dict) or not isinstance(rubric.get("layers") or {}, dict):
        return rubric
    given = {key: (spec.model_dump() if isinstance(spec, LayerRubric) else spec)
             for key, spec in (rubric.get("layers") or {}).items()}
    if not all(isinstance(spec, dict) for spec in given.values()):
        return rubric  # validation names what is wrong
    layers = bundle.resolve_rubric(given, rubric.get("tolerance"))
    points = bundle.flat_points(layers)
    if "points" in rubric and rubric["points"] != points:
        raise ValueError(f"rubric.points: a bundle's points are set per layer, in rubric.layers "
                         f"(layers: {', '.join(layer.key for layer in bundle.layers)})")
    return {"tolerance": bundle.DEFAULT_RUBRIC["tolerance"], **rubric, "layers": layers, "points": points}


def _path(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (known: {', '.join(known)})"


def _without_unknown_keys(raw, model: type[BaseModel], prefix: str, problems: list[str],
                          pack_name: str = assignments.DEFAULT):
    """``raw`` without the keys ``model`` does not know (each reported in ``problems``), so
    that validation reports what is wrong with the known ones, not the same key twice."""
    if not isinstance(raw, dict):
        if not prefix:
            problems.append(f"the file must hold a JSON object, not {type(raw).__name__}")
        return raw
    kept = {}
    for key, value in raw.items():
        where = _path(prefix, key)
        field = model.model_fields.get(key)
        if field is None:
            problems.append(f"{where}: unknown option{_did_you_mean(key, list(model.model_fields))}")
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            value = _without_unknown_keys(value, annotation, where, problems, pack_name)
        elif model is Rubric and key == "points" and isinstance(value, dict):
            groups = list(assignments.get(pack_name).DEFAULT_RUBRIC["points"])
            for group in [g for g in value if g not in groups]:
                problems.append(f"{_path(where, group)}: unknown rubric group{_did_you_mean(group, groups)}")
            value = {g: v for g, v in value.items() if g in groups}
        kept[key] = value
    return kept


def _one_line(error: dict) -> str:
    where = "".join(_path("x", key)[1:] if isinstance(key, int) else "." + str(key) for key in error["loc"])
    where = where.lstrip(".") or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, (dict, list)) or error["type"] in ("missing", "value_error") else f" (got {got!r})"
    return f"{where}: {message}{shown}"
