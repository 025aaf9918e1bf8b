"""The timing phase: fresh worker pairs, each timed by a TrialRunner, until the plan has
enough; then one row per function (its figure, interval and plan, or why it has none),
and the machine figures (cached for this host, or measured in the first quiet pair)."""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from . import speed_feedback
from .contention import OtherCores, QuietWait, contended
from .deadline import Deadline
from .drift import between_gradings
from .environment import environment
from .job import HarnessJob
from .timing import (STOP_DEADLINE, STOP_PRECISION, TimingPlan, clock_ns, describe_plan, half_width,
                     pair_spread_half_width, steady_allocator, summarize_blocks)
from .trials import TrialContext, TrialRunner
from .worker_pair import WorkerPair
from .workers import CallRequest


class TimingPhase:
    """Times the functions that passed their checks, student against reference.

    ``machine_report`` is set where the machine figures came from (the host's cache, or
    measured here with the entry for that cache)."""

    def __init__(self, job: HarnessJob, pack, workers: WorkerPair, deadline: Deadline, other_cores: OtherCores,
                 reference_root: str, cached: dict | None = None, tolerance: float | None = None):
        self.job, self.timing, self.pack = job, job.grading.timing, pack
        # A timed output is checked as the layer's checks are: a bundle's layer by its own
        # tolerance, not the bundle's strictest (a correct batchnorm failed 1e-9 on rounding).
        self.tolerance = float(job.grading.tolerance) if tolerance is None else tolerance
        self.cached = cached  # the host's machine entry for this pack and size (machine_cache), if any
        self.workers, self.deadline, self.other_cores = workers, deadline, other_cores
        self.reference_root = reference_root
        self.calls = {call.name: call for call in pack.CALLS}  # in the pack's order
        self.machine_report: dict | None = None
        self._measured: dict | None = None  # the machine figures measured here (none cached)
        # The student's last timed call pair's kept results (its forward's cache), left in the
        # last pair's student worker for the line profile of a later call (Profiler): a loop
        # solution's forward is seconds the profile need not spend again.
        self.kept_for_profile: tuple | None = None
        # Why precision could not stop the plan, where the spread between gradings alone is as
        # wide as the wanted half-width (TimingPlan.out_of_reach): said in the plan line.
        self.precision_note = ""

    def untimed(self, reason: str | None) -> list[dict]:
        """A timing row per function with no figure (the reason may be filled in later)."""
        case = self.pack.speed_case_name(self.timing.size)
        return [{"call": fn, "function": self.pack.STUDENT_FUNCTIONS[fn], "layer": self.pack.NAME, "measured": False,
                 "case": case, "reason": reason} for fn in self.calls]

    def time_functions(self, passed: dict[str, bool], seed: int) -> list[dict]:
        """The timing rows; ``passed``: function -> whether it passed every check."""
        results = {row["call"]: row for row in self.untimed(None)}
        timed = self._what_to_time(results, passed)
        if not timed:
            return list(results.values())
        rng = np.random.default_rng([seed, 7])
        steady_allocator()
        identity = self.machine_identity(self.timing.size)
        cached = self.cached
        machine = speed_feedback.cached_figures(cached, identity)
        if machine is not None:
            self.machine_report = {"source": speed_feedback.describe_source(cached), "measured": None}
        phase_started = clock_ns()
        quiet = QuietWait(self.other_cores, float(self.job.machine.quiet_wait_s))
        blocks, failure, stopped, because = self._time_pairs(timed, rng, quiet, machine, identity, phase_started)
        if not blocks and not failure:  # the only pair was redone (a busy machine) and time ran out
            failure = (f"not timed: {stopped or self.deadline.total_time_reached()}, after the only worker pair was "
                       "timed while other cores were busy and thrown away")
        phase_s = (clock_ns() - phase_started) / 1e9
        machine = machine if machine is not None else self._measured
        for fn in timed:
            if failure:
                results[fn]["reason"] = failure
                continue
            results[fn].update(self._measured_row(fn, blocks, stopped, phase_s, quiet), stopped_because=because)
            if machine is not None and fn in machine:  # None when every pair ran beside a busy neighbour, none cached
                results[fn].update(speed_feedback.machine_figures(self.pack, fn, self.timing.size,
                                                                  results[fn]["speedup_vs_reference"], machine))
        return list(results.values())

    def _what_to_time(self, results: dict[str, dict], passed: dict[str, bool]) -> list[str]:
        """The functions to time; the others' rows say why not (so do all rows, where
        nothing can be timed)."""
        if not self.timing.enabled:
            for fn in results:
                results[fn]["reason"] = "timing is disabled in this grading's configuration"
            return []
        for fn, ok in passed.items():
            if not ok:
                results[fn]["reason"] = "not timed: the function failed a correctness check"
        timed = [fn for fn, ok in passed.items() if ok]
        if timed and self.deadline.time_left() <= 0:
            for fn in timed:
                results[fn]["reason"] = f"not timed: {self.deadline.total_time_reached()}"
            return []
        if timed and not self.workers.ensure_student():
            for fn in timed:
                results[fn]["reason"] = "not timed: the student worker could not be started"
            return []
        return timed

    def _time_pairs(self, timed: list[str], rng, quiet: QuietWait, machine: dict | None, identity: dict,
                    phase_started: int) -> tuple[list[TrialRunner], str, str, str]:
        """Worker pairs until the plan has enough: (the kept pairs, a failure reason or '',
        what the plan line says of why it stopped or '', why it stopped: STOP_*). Measures
        the machine figures in the first quiet pair where none were cached (``_measured``)."""
        timing = self.timing
        plan = TimingPlan(max_pairs=max(1, timing.pairs), min_trials=timing.min_trials,
                          max_trials=timing.max_trials, budget_s=float(timing.budget_s),
                          phase_s=float(timing.phase_s), call_budget=float(timing.call_budget),
                          precision=float(timing.precision), precision_slow=float(timing.precision_slow))
        blocks: list[TrialRunner] = []
        failure, stopped, because = "", "", ""
        busy = None  # the other cores are looked at during each pair's trials (TrialRunner.run)
        pairs_run = 0
        while True:
            trials = sum(runner.trials for runner in blocks)
            # Only the timed trials count (both sides): warm-ups and untimed call pairs cost what the
            # student makes them cost, unseen (it can tell them by their repeated inputs).
            spent = sum(runner.timed_cpu_s for runner in blocks)
            call_pair_s = _student_call_pair_s(blocks, timed)
            between_cv, _ = self._between_gradings()
            summaries = {fn: self._summary(fn, blocks) for fn in timed} if len(blocks) > 1 else {}
            because = plan.stop_reason(len(blocks), trials, spent, blocks[-1].timed_cpu_s if blocks else 0.0,
                                       call_pair_s, [(summary.speedup, pair_spread_half_width(summary.pair_speedups))
                                                     for summary in summaries.values()], between_cv)
            if because:
                if because == STOP_PRECISION:
                    stopped = plan.precise_enough(len(blocks), [(fn, summary.speedup, half_width(summary))
                                                                for fn, summary in summaries.items()])
                elif len(blocks) < plan.max_pairs:
                    stopped = plan.stopped_early(statistics.median(t for r in blocks for t in r.trial_cpu_s),
                                                 call_pair_s)
                self.precision_note = plan.out_of_reach([(fn, summary.speedup) for fn, summary in summaries.items()],
                                                        between_cv)
                break
            if pairs_run and self.deadline.time_left() < 2 * (clock_ns() - phase_started) / 1e9 / pairs_run:
                stopped, because = "the grading's own time was running out", STOP_DEADLINE
                break
            quiet.before_pair(busy, self.deadline.time_left())
            if pairs_run and not self.workers.fresh_pair():
                failure = "not timed: the student worker could not be restarted for another timing pair"
                break
            runner = TrialRunner(self._context(), timed)
            pair_started = clock_ns()
            failure = runner.run(rng, plan.pair_budget(len(blocks), trials))
            pairs_run += 1
            busy = runner.other_cores_busy
            self.kept_for_profile = runner.kept_for_profile()
            if not failure and quiet.redo(busy, (clock_ns() - pair_started) / 1e9):
                continue  # timed while other cores were busy: redone after a quiet spell
            blocks.append(runner)
            if failure:
                break
            if machine is None and self._measured is None and not contended(busy):
                # Once per host: after the first quiet pair's trials, in its warm reference worker
                # (figures measured beside a busy neighbour would be cached as this host's).
                self._measured = self.measure_machine(runner, rng, self.timing.size)
                measured = {"identity": identity, "figures": self._measured,
                            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                self.machine_report = {"source": speed_feedback.describe_source(None), "measured": measured}
        return blocks, failure, stopped, because

    def _between_gradings(self) -> tuple[float, str]:
        """The spread between gradings the interval allows for, and where it came from (harness.drift)."""
        return between_gradings(float(self.timing.between_gradings_cv), self.job.machine.drift)

    def _summary(self, fn: str, blocks: list[TrialRunner]):
        """A function's figure and regrade interval over the kept pairs (timing.summarize_blocks)."""
        between_cv, drift_source = self._between_gradings()
        return summarize_blocks([runner.times["student"][fn] for runner in blocks],
                                [runner.times["reference"][fn] for runner in blocks],
                                between_cv, [2 * runner.run_length for runner in blocks], drift_source=drift_source)

    def _context(self) -> TrialContext:
        limits = self.job.grading.limits
        return TrialContext(pack=self.pack, student=self.workers.student, reference=self.workers.reference,
                            deadline=self.deadline, timing=self.timing, tolerance=self.tolerance,
                            call_allowance_s=limits.call_allowance_s, memory_bytes=limits.memory_bytes,
                            other_cores=self.other_cores, calls=self.calls, names=self.pack.STUDENT_FUNCTIONS)

    def _measured_row(self, fn: str, blocks: list[TrialRunner], stopped: str, phase_s: float,
                      quiet: QuietWait) -> dict:
        """A timed function's figure, interval, plan and every trial's time."""
        busy_machine, busy_machine_text = quiet.report(blocks), quiet.describe(blocks)  # the same for every function
        student = [runner.times["student"][fn] for runner in blocks]
        reference = [runner.times["reference"][fn] for runner in blocks]
        between_cv, drift_source = self._between_gradings()
        summary = self._summary(fn, blocks)
        return dict(
            measured=True, trials=summary.trials, student_median_s=summary.student_median_s,
            reference_median_s=summary.reference_median_s, speedup_vs_reference=summary.speedup,
            ci_low=summary.ci_low, ci_high=summary.ci_high, ci_level=summary.ci_level,
            ci_method=summary.ci_method, pairs=len(blocks), pair_speedups=summary.pair_speedups,
            timing_phase_s=phase_s, between_gradings_cv=between_cv, drift_source=drift_source,
            plan="; ".join(filter(None, (
                describe_plan(len(blocks), summary.trials, any(runner.own_warm_up for runner in blocks),
                              stopped, float(self.timing.own_warm_up_s), [runner.run_length for runner in blocks]),
                self.precision_note, busy_machine_text))),
            call_overhead_s=statistics.median(runner.overhead_s[fn] for runner in blocks),
            clock=self.workers.clock_description(),
            student_times_s=[t for times in student for t in times],
            reference_times_s=[t for times in reference for t in times],
            **busy_machine,
        )

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
        return {"host": self.job.machine.host, **environment(),
                "cpus": os.cpu_count(), "assignment": self.pack.NAME, "size": size,
                "reference": speed_feedback.code_digest(files)}

    def measure_machine(self, runner: TrialRunner, rng, size: str) -> dict:
        """The reference's and the same-shape product's steady times (speed_feedback), in the
        reference worker that has just run its pair's trials."""
        case = self.pack.speed_case(rng, -300, size)
        m, k, f = self.pack.same_shape_gemm(size)
        allowance = self.job.grading.limits.call_allowance_s
        reference = self.workers.reference

        # Which product stands for a call (peak_gemm's passes): the pack's GEMM_PASSES where it
        # declares them; otherwise a call named backward... is the backward's two products,
        # any other call the forward's one.
        passes = getattr(self.pack, "GEMM_PASSES", {})

        def product(call: str, repeat: int) -> float:
            kind = call if call == "none" else passes.get(call, "backward" if call.startswith("backward") else "forward")
            spec = {"m": m, "k": k, "f": f, "pass": kind, "repeat": repeat}
            outcome = reference.call(CallRequest(None, [{"value": spec}], [], {}, op="gemm"), allowance * repeat)
            if not outcome.ok or outcome.cpu_s is None:
                raise RuntimeError(f"the reference worker failed the peak product: {outcome.message or outcome.error}")
            return outcome.cpu_s

        return speed_feedback.measure_machine(lambda repeats: runner.reference_pair(case, repeats), product,
                                              tuple(self.calls))


def _student_call_pair_s(blocks: list[TrialRunner], timed: list[str]) -> float:
    """The student's own call pair (its timed calls once each), CPU time: the median over
    every kept trial. What the plan's cost limit is counted in (TimingPlan.cost_limit)."""
    totals = [sum(runner.times["student"][fn][k] for fn in timed) for runner in blocks for k in range(runner.trials)]
    return statistics.median(totals) if totals else 0.0
