"""The timing phase's trials for one worker pair: warm-ups, the fixed cost of a call,
then runs of trials, student and reference alternating on the same fresh inputs.

A ``TrialRunner`` sees the run only through its ``TrialContext``: the pack, this pair's
two workers, the deadline and the limits it needs; it never holds the conductor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .call_messages import describe_failure
from .checks import compare
from .properties import grades_by_property
from .contention import OtherCores
from .deadline import Deadline
from .job import TimingJob
from .timing import REWARM_LIMIT_S, TrialBudget, clock_ns, next_run, run_length
from .call_outcome import CallOutcome
from .workers import CallRequest, WorkerProcess


@dataclass(frozen=True)
class TrialContext:
    """What a pair's trials read of the run (one per worker pair: the workers change)."""

    pack: object  # the assignment pack (assignments)
    student: WorkerProcess
    reference: WorkerProcess
    deadline: Deadline
    timing: TimingJob
    tolerance: float
    call_allowance_s: float
    memory_bytes: int
    other_cores: OtherCores
    calls: dict  # call name -> the pack's call, in the pack's order
    names: dict[str, str]  # call name -> the student's function


class TrialRunner:
    """Student and reference on the same fresh inputs per trial, in runs: each side times
    ``run_length`` trials' calls in a row, then the other side the same trials, the order
    of the sides alternating from run to run (A B B A ...)."""

    def __init__(self, context: TrialContext, timed: list[str]):
        self.context = context
        self.timed = timed
        self.times = {role: {fn: [] for fn in timed} for role in ("student", "reference")}
        self.trials = 0
        self.other_cores_busy: float | None = None  # the rest of the machine during this pair (contention.py)
        # What the plan and the budget count: each timed trial's calls' CPU time (both sides),
        # which a regrade repeats whatever else the machine runs; wall time only guards the deadline.
        self.trial_cpu_s: list[float] = []
        self.own_warm_up = False  # the student's first call pair was long enough to be a trial
        self.run_length = 1  # trials per run, set after the warm-ups (timing.run_length)
        self.runs = 0
        self.rewarm = {"student": False, "reference": True}  # which sides start a run with an untimed call pair
        self.rewarm_case = None  # inputs for those calls: the reference's warm-up's, then each run's last
        # The fixed CPU cost of a call in a worker (reading the request, building the
        # arguments, replying, being stopped and continued), subtracted from both sides.
        self.overhead_s = {fn: 0.0 for fn in context.calls}
        # The student's last call pair's kept results ({label: slot}) and its case, left in
        # its worker until its next call pair starts (so its memory at a call is as before).
        self._student_kept: tuple | None = None
        # Each side's CPU time in forgets since its last timed call pair, charged to its next,
        # less the fixed cost of a forget (an empty one on the reference worker: ``calibrate``).
        self.forget_overhead_s = 0.0
        self._forgotten_s = {"student": 0.0, "reference": 0.0}

    @property
    def timed_cpu_s(self) -> float:
        """The CPU time of this pair's timed trials' calls (both sides): what the plan's budget
        counts. Warm-ups and untimed call pairs are left out: a student's cost there is its own
        to inflate, and the limit is counted in its timed call pairs."""
        return sum(self.trial_cpu_s)

    def one_call_pair(self, role: str, case, timeout: float, timed: bool = False) -> tuple[dict, dict, str]:
        """The case's calls in order on one worker; returns (times, outputs, failure message).
        Every worker is held stopped between its calls (``WorkerProcess``), so the student's
        runs nothing while the reference is timed. ``timed``: a trial's call pair, which
        carries the side's forgets since its last one (``_forgotten_s``)."""
        times, outputs, failure = self._one_call_pair(role, case, timeout)
        if timed and times and not failure:
            first = next(iter(times))
            times[first] += self._forgotten_s[role]
            self._forgotten_s[role] = 0.0
        return times, outputs, failure

    def _forget(self, role: str, worker: WorkerProcess, slots: list[str]) -> None:
        """Drop a call pair's kept results, its CPU time charged to the side's next timed call:
        the student's forget runs its own cleanup code, untimed, and comes right before a
        timed call at the start of a run (or its untimed call pair); both sides alike."""
        self._forgotten_s[role] += max(0.0, worker.forget(slots) - self.forget_overhead_s)

    def reference_pair(self, case, repeats: dict[str, int]) -> dict:
        """The reference's calls on ``case``, each repeated back to back ``repeats[call]``
        times in one request, net of the fixed cost of a request; outside the trials and
        their budget, for the machine figures (speed_feedback). As make bench runs them,
        nothing is copied out: the results stay in the worker (the reference's, unchecked)."""
        worker, names = self.context.reference, self.context.pack.REFERENCE_FUNCTIONS
        times, made = {}, {}
        for call in (self.context.calls[name] for name in case.calls):
            slot = f"machine-{call.kept[0]}" if call.kept else None
            args, inputs = case.arguments(call.name, made)
            request = CallRequest(names[call.name], args, list(call.results), inputs, slot,
                                  extra={"repeat": repeats[call.name], "discard": True}, may_change=call.mutable)
            outcome = worker.call(request, min(self.timeout * repeats[call.name], self.context.deadline.time_left()))
            if not outcome.ok:
                raise RuntimeError(f"the reference failed while measuring the machine figures: {outcome.message}")
            times[call.name] = self._net(outcome, call.name)
            if slot:
                made[call.kept[0]] = slot
        if made:
            worker.forget(list(made.values()))
        return times

    def kept_for_profile(self) -> tuple | None:
        """(worker, case, {label: slot}) of the student's last call pair, if it kept anything;
        whoever takes it forgets the slots. Taken once: this runner lets go of the case (its
        inputs are 7 MB at the speed cell, and every kept pair's runner stays in the phase)."""
        if self._student_kept is None:
            return None
        case, made = self._student_kept
        self._student_kept = None
        return self.context.student, case, made

    def _one_call_pair(self, role: str, case, timeout: float) -> tuple[dict, dict, str]:
        worker = self.context.student if role == "student" else self.context.reference
        names = self.context.names if role == "student" else self.context.pack.REFERENCE_FUNCTIONS
        times, outputs, made = {}, {}, {}
        if role == "student" and self._student_kept is not None:
            self._forget(role, worker, list(self._student_kept[1].values()))
            self._student_kept = None
        for call in (self.context.calls[name] for name in case.calls):
            # The student's untimed calls (they failed a check) are skipped: a later call then
            # gets the starter code's stand-in for what they keep. The reference runs them all.
            if role == "student" and call.name not in self.timed:
                continue
            slot = f"timing-{call.kept[0]}-{case.id}" if call.kept else None
            args, inputs = case.arguments(call.name, made)
            outcome = worker.call(CallRequest(names[call.name], args, list(call.results), inputs, slot,
                                              may_change=call.mutable), timeout)
            if not outcome.ok:
                memory = self.context.memory_bytes
                return times, outputs, describe_failure(outcome, names[call.name], memory, case.where)
            if outcome.inputs_changed:
                return times, outputs, f"{names[call.name]} changed its input {outcome.inputs_changed[0]}"
            times[call.name] = self._net(outcome, call.name)
            outputs.update(outcome.results)
            if slot:
                made[call.kept[0]] = slot
        if made and role == "student":
            self._student_kept = (case, made)
        elif made:
            self._forget(role, worker, list(made.values()))
        return times, outputs, ""

    def run(self, rng: np.random.Generator, budget: TrialBudget) -> str:
        """Warm up both sides, then time trials under the budget; returns a failure reason or ''.
        The other cores are looked at over all of it (a look needs the kernel's 10 ms ticks
        to pass), but not over the workers' start: reading files in a container keeps the
        host's overlay daemon busy on another core while they import."""
        at_start = self.context.other_cores.sample()
        try:
            return self._run(rng, budget)
        finally:
            self.other_cores_busy = self.context.other_cores.busy_over_a_tick(at_start)
            self.rewarm_case = None  # 7 MB at the speed cell, kept per pair otherwise

    def _run(self, rng: np.random.Generator, budget: TrialBudget) -> str:
        allowance = self.context.call_allowance_s
        warm_ref_s = self._warm_up("reference", rng, allowance)
        if isinstance(warm_ref_s, str):
            raise RuntimeError(f"the reference failed while warming up: {warm_ref_s}")
        timeout = self.timeout = self.context.deadline.call_timeout(warm_ref_s)
        self.calibrate(rng)
        warm_student = self._warm_up("student", rng, timeout, own_warm_up=True)
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
                if self.trials and self.context.deadline.time_left() < (span + 1) * wall_s / self.trials:
                    if self.trials < budget.min_trials:
                        return f"not timed: {self.context.deadline.total_time_reached()}"
                    break
            if first is not None:  # the student's long first call pair: its reference follows
                case, student, started = first
                cases, students = [case], [student]
                first = None
            else:
                cases = [self.context.pack.speed_case(rng, self.trials + i, self.context.timing.size) for i in range(count)]
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
                times, outputs, failure = self.one_call_pair(role, case, timeout, timed=True)
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

    def calibrate(self, rng, calls: int = 5) -> None:
        """The fixed cost of a call: null calls (the same request and arguments, no call)
        on the reference worker, whose code is ours. Measured on the student's worker, a
        student could inflate it; any student's fixed cost is its own to shrink either way."""
        case = self.context.pack.speed_case(rng, -100, self.context.timing.size)
        reference = self.context.reference
        for function in self.context.calls:
            args, inputs = case.arguments(function, {})  # as the call itself, with stand-ins for kept results
            costs = []
            for _ in range(calls):
                outcome = reference.call(CallRequest(None, args, [], inputs, op="null"), self.context.call_allowance_s)
                if not outcome.ok or outcome.cpu_s is None:
                    raise RuntimeError(f"the reference worker failed a null call: {outcome.message or outcome.error}")
                costs.append(outcome.cpu_s)
            self.overhead_s[function] = sorted(costs)[len(costs) // 2]
        forgets = sorted(reference.forget([]) for _ in range(calls))
        self.forget_overhead_s = forgets[len(forgets) // 2]

    def _warm_up(self, role: str, rng, timeout: float, own_warm_up: bool = False) -> float | str | tuple:
        """Calls until ``warmup_s`` of wall time has passed (at least one); returns the last
        call pair's total timed (CPU) time. With ``own_warm_up``, a first call pair of
        ``own_warm_up_s`` or more (CPU time) ends the warm-up and is kept as the first trial: returns
        (case, (times, outputs), its start on the wall clock)."""
        started, calls, last = clock_ns(), 0, 0.0
        # One set of inputs for the whole warm-up: nothing of it is timed, and drawing fresh
        # inputs for each of a fast solution's ten or so warm-up calls was harness time.
        case = self.context.pack.speed_case(rng, self.trials if own_warm_up else -1, self.context.timing.size)
        if not own_warm_up:
            self.rewarm_case = case  # the reference's: the first run's untimed calls reuse it
        while calls == 0 or ((clock_ns() - started) / 1e9 < self.context.timing.warmup_s and calls < 20):
            case_started = clock_ns()
            times, outputs, failure = self.one_call_pair(role, case, timeout)
            if failure:
                return failure
            last = sum(times.values())
            if own_warm_up and not calls and last >= self.context.timing.own_warm_up_s:
                self.own_warm_up = True
                return case, (times, outputs), case_started
            calls += 1
        return last

    def _wrong_output(self, results: dict, case) -> str:
        if grades_by_property(self.context.pack):
            # A random layer's outputs have no one right value to compare with the reference's
            # (a different mask is as right); what is timed passed every property check first.
            return ""
        labels = [label for call in self.context.pack.CALLS if call.name in self.timed for label in call.sent]
        for label in labels:
            expected = results["reference"][1][label].array
            verdict = compare(label, results["student"][1][label], expected, self.context.tolerance, case.where)
            if not verdict.passed:
                return verdict.message
        return ""


def _timed(outcome: CallOutcome) -> float:
    """A call's timed figure: the worker's CPU time (the wall time only if the kernel's
    clock could not be read, which happens only for a worker that is gone)."""
    return outcome.cpu_s if outcome.cpu_s is not None else outcome.elapsed_s
