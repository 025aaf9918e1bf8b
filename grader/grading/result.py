"""The grading result: the one document a grading produces, and its published schema.

``schemas/result.schema.json`` is generated from ``GradeResult`` (``python -m grader.publish.schemas``);
a test fails when the committed file is stale.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# 2.0: checks and timing rows name the pack's call (``call``), the student function it
# exercised (``function``) and the pack (``layer``), so one result can hold many layers
# and staff scripts can total any of them; 1.0 had only ``function`` = "forward"/"backward".
RESULT_SCHEMA_VERSION = "2.0"

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailureKind(str, Enum):
    """Whose fault a failure is decides whether the score counts."""

    STUDENT = "student"  # the submission is at fault: the score counts (often 0)
    GRADER = "grader"  # the grader is at fault: not gradable, never a zero


class Failure(Strict):
    kind: FailureKind
    message: str


class CheckStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"


class Check(Strict):
    id: str = Field(description="Stable identifier, e.g. 'backward/hidden-3/dx'.")
    name: str = Field(description="Human-readable name shown to the student.")
    call: str = Field(description=("The pack's call name the check exercised ('forward', 'backward_alt', 'loss'); "
                                   "'all' for a check of every call (inputs unchanged, the submission loads)."))
    function: str = Field(description=("The student function it exercised ('max_pool_forward_naive'); for a check of "
                                       "every call, the layer's functions joined by ', '."))
    layer: str = Field(description="The assignment pack (layer) the check belongs to, e.g. 'cs231n-maxpool'.")
    group: str = Field(description="Rubric group the check's points come from.")
    status: CheckStatus
    score: float
    max_score: float
    message: str
    visibility: Visibility = "visible"


class FunctionTiming(Strict):
    """Timing of one function against the fast reference, measured by the harness."""

    call: str = Field(description="The pack's call name that was timed ('forward').")
    function: str = Field(description="The student function that was timed ('max_pool_forward_naive').")
    layer: str = Field(description="The assignment pack (layer) it belongs to, e.g. 'cs231n-maxpool'.")
    measured: bool
    reason: str | None = Field(None, description="Why no figure was measured, when measured is false.")
    case: str = Field(description="The input size that was timed.")
    trials: int = 0
    student_median_s: float | None = None
    reference_median_s: float | None = None
    speedup_vs_reference: float | None = Field(
        None, description=("Reference time / student time (>1: faster than the reference): the geometric mean over "
                           "worker pairs of each pair's figure (the geometric mean of its block ratios: a block is two runs "
                           "of trials, each side first in one).")
    )
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = Field(None, description="Nominal coverage of [ci_low, ci_high] (see ci_method).")
    ci_method: str | None = Field(None, description="How the interval was built, e.g. 'regrade interval over 4 worker pairs (A B B A runs)'.")
    pairs: int = Field(0, ge=0, description="Fresh student and reference worker pairs the trials were spread over.")
    pair_speedups: list[float] = Field(default_factory=list, description="Each worker pair's figure: the geometric mean of its block ratios (two runs of trials, each side first in one).")
    plan: str | None = Field(None, description=(
        "What the timing phase ran and why: trials, worker pairs, its wall time, and what made it run fewer "
        "pairs than configured (timing.phase_s for slow code) or count a long first call as a trial."))
    timing_phase_s: float | None = Field(None, description="Wall time of the whole timing phase (starts, warm-ups, trials).")
    between_gradings_cv: float | None = Field(None, description=(
        "The spread between gradings the interval allowed for (on the log scale, in quadrature with the spread "
        "between worker pairs): this host's measured one (convgrade doctor --timing) or the configured "
        "timing.between_gradings_cv, whichever is larger."))
    drift_source: str | None = Field(None, description=(
        "Where between_gradings_cv came from: 'measured on this host (K A/A gradings, <when>)' or 'the constant "
        "floor' (no measurement for this host, or one below the configured constant). None in older results."))
    other_cores_busy: float | None = Field(None, description=(
        "How busy the machine's other cores were (0-1, /proc/stat) during the busiest kept worker pair; None where "
        "it cannot be read. Above 0.25 the pair counts as contended."))
    contended_pairs: int = Field(0, ge=0, description=(
        "Kept worker pairs timed while other cores were busy: a memory-bound figure can then differ from a quiet "
        "machine's, by up to 30% beside a memory-heavy program (the plan line says so)."))
    contention_wait_s: float = Field(0.0, ge=0, description=(
        "Time the grading lost to busy other cores: waiting for a quiet spell and redoing pairs timed while they "
        "were busy (bounded per grading; 0 in batches whose parallel gradings are each other's neighbours)."))
    redone_pairs: int = Field(0, ge=0, description="Worker pairs thrown away and timed again because other cores were busy.")
    clock: str | None = Field(None, description="What a time is: the worker process's CPU time for the call.")
    call_overhead_s: float | None = Field(None, description=(
        "The fixed CPU cost of a call in a worker (request, arguments, reply), calibrated by null calls on the "
        "reference worker and subtracted from every time of both sides (median over the pairs)."))
    student_times_s: list[float] = Field(default_factory=list)
    reference_times_s: list[float] = Field(default_factory=list)
    # Speed against the machine (measured by the harness; see the pack's timed_flops, same_shape_gemm).
    flops: int | None = Field(None, description="Floating-point operations of one timed call, as the assignment "
                                                "declares them (forward 2*N*F*C*HH*WW*H'*W', backward twice that).")
    student_gflops: float | None = Field(None, description=(
        "reference_gflops * speedup_vs_reference: the student's GFLOP/s at the reference's steady pace."))
    reference_gflops: float | None = Field(None, description=(
        "flops / the reference's steady time on this host: called back to back in the reference worker, "
        "alternating with the same-shape product, as make bench measures it (not the trials' times, which "
        "include the cost of alternating with the other worker on one core)."))
    peak_gflops: float | None = Field(None, description=(
        "GFLOP/s of a numpy matrix product of the shape the assignment pack declares for this size, timed in the "
        "reference worker on the grading core: what code reduced to that product cannot beat there."))
    percent_of_peak: float | None = Field(None, description="reference_percent_of_peak * speedup_vs_reference.")
    reference_percent_of_peak: float | None = Field(None, description=(
        "100 / the median per-trial ratio of reference time to product time, in the same measurement."))


class ProfiledLine(Strict):
    file: str
    line: int
    function: str
    text: str = Field(description="The line's source text.")
    hits: int = Field(description="Times the line ran in the profiled call.")
    loops: int = Field(description="for/while loops enclosing the line.")
    seconds: float
    percent: float = Field(description="Share of the profiled call's time spent on this line.")


class LineProfile(Strict):
    """Where one function's time went: a run under a line profiler inside the student's own
    process, after the timed trials. That process can forge it, so it is feedback only:
    never scored, never ranked, never on a leaderboard."""

    function: str = Field(description="The pack's call name that was profiled ('forward').")
    lines: list[ProfiledLine] = Field(description="The top lines by time, slowest first.")
    total_s: float = Field(description="Time on the profiled lines (the profiler's own clock and overhead included).")
    stopped: bool = Field(description="True when the call was stopped at budget_s of CPU time: the figures cover "
                                      "the part of the call that ran.")
    budget_s: float
    raised: str = Field("", description="The exception type, when the profiled call raised.")


class ForbiddenUse(Strict):
    """One piece of evidence of a forbidden call. Staff only: never on a public board."""

    function: str = Field(description=(
        "The pack's call name of the graded function it is attributed to; module: an import, or code no graded "
        "function reaches."))
    how: Literal["static", "run time"] = Field(description=(
        "static: found in the source by the host; run time: seen by a profile hook in the student's own process "
        "during correctness checks (evidence, not proof: that process can hide it)."))
    call: str = Field(description="The dotted name called (run time: module.function).")
    file: str
    line: int
    count: int | None = Field(None, description="Calls seen (run time).")


class HookTampering(Strict):
    """The run-time watch's profile hook was not the grader's when a check call returned."""

    function: str = Field(description="The pack's call name whose check calls returned with the hook tampered.")
    what: Literal["removed", "replaced"] = Field(description=(
        "removed: no profile hook was set; replaced: another function was. Either way the calls made after it "
        "were not watched. Seen by the student's own process, which can also hide this."))
    calls: int = Field(description="Check calls of this function that returned with the hook in that state.")


class Integrity(Strict):
    """Forbidden-call evidence for staff (``forbidden`` in the configuration)."""

    forbidden: list[str]
    policy: Literal["flag", "zero"]
    uses: list[ForbiddenUse] = Field(default_factory=list)
    zeroed: list[str] = Field(default_factory=list, description=(
        "The pack's call names whose checks scored 0 under the zero policy."))
    hook_tampering: list[HookTampering] = Field(default_factory=list, description=(
        "Check calls after which the run-time watch's hook was removed or replaced: marked for staff, not scored."))


class Isolation(Strict):
    level: str = Field(description="The rung of the isolation ladder the grading ran on: namespaces (root with "
                       "CAP_SYS_ADMIN), private-uids (root without it), user (not root); 'container, ...' under "
                       "the Docker backend.")
    has: list[str] = Field(default_factory=list, description="Protections this run had.")
    lacks: list[str] = Field(default_factory=list, description="Protections this run lacked, and why.")


class Environment(Strict):
    python: str
    numpy: str
    blas: str
    cpu_model: str
    sandbox: str
    isolation: Isolation = Field(default_factory=lambda: Isolation(level="unknown"),
                                 description="The isolation this run got and what it lacked.")
    host: str | None = Field(None, description="Hostname of the machine that graded (and timed) it.")
    scratch_left: list[str] = Field(default_factory=list, description=(
        "What the grader could not remove of this grading's scratch folder on the grading host (a count, then the "
        "first paths and why): files the operator must delete; empty when everything was removed."))
    peak_source: str | None = Field(None, description=(
        "Where the timing's peak and reference GFLOP/s came from: measured in this grading, or measured once on "
        "this host by an earlier grading and kept in the host's machine cache (same host, CPU, numpy, BLAS, Python, "
        "size and reference code)."))

    @field_validator("isolation", mode="before")
    @classmethod
    def _older_results(cls, value):
        """Results stored before the ladder listed only what was lacking."""
        return {"level": "unknown", "lacks": value} if isinstance(value, list) else value


class SubmissionInfo(Strict):
    id: str
    source_name: str
    kind: Literal["py", "folder", "zip", "ipynb"]
    sha256: str
    entry: str | None = None


class Repair(Strict):
    """One mechanical repair of the student's file, at its line, so the student can make it."""

    file: str
    line: int
    end_line: int | None = Field(None, description="Last line, when the repair spans several (a merge conflict).")
    rule: Literal["merge_conflict", "python2_print", "tabs", "xrange", "numpy_alias", "python2_division",
                  "unused_missing_import", "implicit_relative_import"]
    before: str
    after: str


class WhatIfCheck(Strict):
    id: str
    passed: bool
    message: str


class WhatIfVariant(Strict):
    """The checks a repaired copy passed (for a merge conflict, one variant per side)."""

    label: str = Field(description="Which copy: 'with these fixes', or which side of the conflicts was kept.")
    repairs: list[Repair] = Field(description="The first repairs, in line order (at most 40; see repairs_not_listed).")
    repairs_not_listed: int = Field(0, ge=0, description="How many more repairs the copy has than are listed.")
    passed: int
    total: int
    verdict: str = Field(description="Per function: right, or wrong with the first failing case.")
    error: str | None = Field(None, description="Why the repaired copy still failed before any check, if it did.")
    checks: list[WhatIfCheck] = Field(default_factory=list)


class WhatIf(Strict):
    """What a mechanically repaired copy of the submission would pass. Feedback only:
    it never changes the score, the checks or the leaderboard."""

    first_error: str = Field(description="The mechanical class of the first error (e.g. python2_division).")
    summary: str
    variants: list[WhatIfVariant]


class GradeResult(Strict):
    schema_version: Literal["2.0"] = RESULT_SCHEMA_VERSION
    grader_version: str
    assignment: str
    config_hash: str = Field(description="Hash of the rubric and grading configuration used.")
    submission: SubmissionInfo
    seed: int
    seed_derivation: Literal["given", "content+course_secret", "content+default_secret"] | None = Field(
        None, description=("Where the seed came from: given (--seed); content+course_secret: HMAC-SHA256 of the "
                           "submission's sha256 under the course's secret; content+default_secret: the same under "
                           "a public per-assignment default (predictable). The secret itself is never recorded."))
    graded_at: str = Field(description="UTC time, ISO 8601.")
    gradable: bool = Field(description="False when the grader (not the student) failed; score is then not a grade.")
    failure: Failure | None = None
    score: float
    max_score: float
    checks: list[Check]
    timing: list[FunctionTiming]
    notes: list[str] = Field(default_factory=list, description="Things the student should know that are not checks.")
    student_output: str = Field("", description="What the student's code printed, truncated.")
    environment: Environment | None = None
    what_if: WhatIf | None = Field(
        None, description="When the first error was mechanical: what a repaired copy would pass (never a score).")
    line_profiles: list[LineProfile] = Field(default_factory=list, description=(
        "Where the time goes, per timed function: feedback from the student's own process, never scored or ranked."))
    integrity: Integrity | None = Field(None, description="Forbidden-call evidence: staff only, never published.")
    wall_time_s: float

    @model_validator(mode="before")
    @classmethod
    def _older_schema(cls, data):
        """A stored 1.0 result is read as 2.0 (grader.grading.result_upgrade), or refused with a
        message that says to regrade."""
        if isinstance(data, dict) and data.get("schema_version") == "1.0":
            from grader.grading.result_upgrade import upgrade

            return upgrade(data)
        return data
