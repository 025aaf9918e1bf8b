"""The grading configuration: rubric, tolerances, limits and timing budget, validated.

Defaults come from the assignment's declaration (``grader.harness.conv2d``); a course
overrides any part with a JSON file (``--config``). Its hash is recorded in every
result, so a batch knows when a regrade is needed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.errors import UsageError
from grader.harness import conv2d

GiB = 1 << 30
MiB = 1 << 20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeedRubric(Strict):
    """Optional points for speed: ``thresholds`` are (speedup_vs_reference, fraction of
    the function's speed points) pairs; the highest threshold reached counts."""

    enabled: bool = False
    points: float = Field(0, ge=0, description="Speed points for each of forward and backward.")
    thresholds: list[tuple[float, float]] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _fractions(cls, thresholds: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for speedup, fraction in thresholds:
            if speedup <= 0 or not 0 <= fraction <= 1:
                raise ValueError(f"threshold ({speedup}, {fraction}): speedup must be > 0 and fraction in [0, 1]")
        return sorted(thresholds)


class Rubric(Strict):
    points: dict[str, float] = Field(default_factory=lambda: dict(conv2d.DEFAULT_RUBRIC["points"]))
    tolerance: float = Field(conv2d.DEFAULT_RUBRIC["tolerance"], gt=0, lt=1)
    speed: SpeedRubric = Field(default_factory=SpeedRubric)
    hidden_visibility: Literal["visible", "hidden", "after_due_date", "after_published"] = "visible"

    @field_validator("points")
    @classmethod
    def _known_groups(cls, points: dict[str, float]) -> dict[str, float]:
        unknown = set(points) - set(conv2d.DEFAULT_RUBRIC["points"])
        if unknown:
            raise ValueError(f"unknown rubric groups {sorted(unknown)}; known: {sorted(conv2d.DEFAULT_RUBRIC['points'])}")
        if any(value < 0 for value in points.values()):
            raise ValueError("points must be >= 0")
        return {**conv2d.DEFAULT_RUBRIC["points"], **points}


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
    budget_s: float = Field(6.0, gt=0, description="Time spent in timed trials, past the minimum count (all pairs).")
    min_trials: int = Field(3, ge=1, description="Timed trials per worker pair, at least.")
    # 8 per pair by default: the spread between pairs, not more trials in one, is what
    # a figure's uncertainty is made of (and the grading costs about what one pair of 41 did).
    max_trials: int = Field(32, ge=1, description="Timed trials in all, at most (shared among the pairs).")
    warmup_s: float = Field(0.05, ge=0, description="Warm-up of each side in each worker pair (at least one call).")
    pairs: int = Field(4, ge=1, le=16, description=(
        "Fresh student and reference worker pairs the timing is spread over; the interval is a t-interval "
        "over their figures (one pair: an interval over its trials only)."))
    between_gradings_cv: float = Field(0.015, ge=0, le=0.5, description=(
        "Spread of a figure between gradings that one grading cannot see (other load on the machine), added "
        "in quadrature to the interval of several pairs."))

    @model_validator(mode="after")
    def _order(self) -> "TimingSettings":
        if self.max_trials < self.min_trials:
            raise ValueError(f"max_trials {self.max_trials} is below min_trials {self.min_trials}")
        return self


class Course(Strict):
    """How the course presents results. Not part of grading: left out of the config hash,
    so renaming the course never regrades anyone."""

    title: str | None = Field(None, description="Shown on the leaderboard instead of the assignment id.")
    gradebook_column: str | None = Field(
        None, description="The Canvas gradebook column, e.g. 'Conv layers (123456)' to update that assignment.")


class GradingConfig(Strict):
    assignment: Literal["cs231n-conv"] = conv2d.NAME
    rubric: Rubric = Field(default_factory=Rubric)
    hidden_cases: int = Field(len(conv2d.HIDDEN_SHAPES), ge=1, le=64)
    limits: Limits = Field(default_factory=Limits)
    timing: TimingSettings = Field(default_factory=TimingSettings)
    seed_secret: str | None = Field(None, exclude=True, repr=False, description=(
        "Course secret the hidden cases' seed is derived from (with the submission's hash); the environment "
        "variable CONVGRADE_SEED_SECRET takes precedence. Never written into results or hashes."))
    course: Course = Field(default_factory=Course)

    def config_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json", exclude={"course"}), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def harness_job(self, seed: int) -> dict:
        """The part of the harness's job that comes from configuration."""
        return {
            "assignment": self.assignment,
            "seed": seed,
            "hidden_cases": self.hidden_cases,
            "tolerance": self.rubric.tolerance,
            "timing": self.timing.model_dump(),
            "limits": self.limits.model_dump(),
        }

    @classmethod
    def load(cls, path: Path | None) -> "GradingConfig":
        if path is None:
            return cls()
        try:
            return cls.model_validate_json(Path(path).read_text())
        except FileNotFoundError as exc:
            raise UsageError(f"config file {path} does not exist") from exc
        except ValidationError as exc:
            raise UsageError(f"config file {path} is invalid:\n{exc}") from exc
