"""The correctness checks: each case's calls in the student's worker, every graded result
compared with the reference's, and the check that no call changed its inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import speed_feedback
from .call_messages import describe_failure
from .checks import compare
from .deadline import Deadline
from .call_outcome import CallOutcome
from .timing import clock_ns
from .worker_pair import WorkerPair
from .workers import CallRequest


@dataclass
class CheckRecord:
    id: str
    name: str
    call: str  # the pack's call name ("all" for the inputs check)
    function: str  # the student function it exercised
    layer: str  # the pack's NAME
    group: str
    passed: bool
    message: str

    def as_json(self) -> dict:
        return self.__dict__.copy()


class Checker:
    """Runs the pack's cases against the student's worker and keeps the records.

    Besides ``records`` it gathers what the report shows beside them: the inputs a call
    changed, the plain values the student's own process says it changed (shown, never
    scored), and the forbidden calls the worker's hook saw (``observed``)."""

    def __init__(self, pack, workers: WorkerPair, deadline: Deadline, tolerance: float, entry: str,
                 memory_bytes: int, watch: list[str]):
        self.pack, self.workers, self.deadline = pack, workers, deadline
        self.tolerance, self.entry, self.memory_bytes = tolerance, entry, memory_bytes
        self.names = pack.STUDENT_FUNCTIONS  # call name -> the student's function
        self.calls = {call.name: call for call in pack.CALLS}  # in the pack's order
        self.records: list[CheckRecord] = []
        self.input_changes: list[str] = []
        # Changes to plain values (the pack's PARAM_NAME) are seen only by the student's own process,
        # which can forge that report: they are shown, never scored (each call gets a fresh
        # copy anyway, so such a change cannot touch grading).
        self.reported_changes: list[str] = []
        # Forbidden calls the student worker's hook saw during check calls (untrusted evidence).
        self.watch = watch
        self.observed: dict[tuple, dict] = {}

    def check_case(self, case) -> None:
        """The case's calls in order, each graded call's results checked; what a call keeps
        (a forward's cache) stays in the student's worker for the later calls that need it."""
        started = clock_ns()
        expected = self.pack.expected_outputs(case)
        reference_s = (clock_ns() - started) / 1e9
        timeout = self.deadline.call_timeout(reference_s)
        made: dict[str, str] = {}  # kept label -> the worker slot holding the student's value
        slots = []
        for call in (self.calls[name] for name in case.calls):
            name = self.names[call.name]
            slot = f"{call.kept[0]}-{case.id}" if call.kept else None
            slots += [slot] if slot else []
            outcome = None
            if self.deadline.time_left() > 0 and self.workers.ensure_student() and self.workers.functions.get(name):
                student = self.workers.student
                # A worker restarted since the earlier call no longer holds what it kept.
                kept = {label: held for label, held in made.items() if any(k[0] == held for k in student.kept)}
                args, inputs = case.arguments(call.name, kept)
                outcome = student.call(CallRequest(name, args, list(call.results), inputs, slot,
                                                   extra=self._watch_request(), may_change=call.mutable), timeout)
                self._note_changes(outcome, name, case, args, call)
                self._note_observed(outcome, call.name)
                if slot and outcome.ok:
                    made[call.kept[0]] = slot
            if call.name in case.graded:
                note = self._stand_in_note(call, made) if outcome is not None else ""
                for label in call.sent:
                    self._record(case, call.name, label, outcome, expected[label], name, note)
        if slots:
            self.workers.forget(slots)

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
            passed, message = False, describe_failure(outcome, function_name, self.memory_bytes, case.where)
            if outcome.status == "timeout" and self.deadline.time_left() <= 0:
                message = f"{function_name} was stopped: {self.deadline.total_time_reached()}"
        if suffix and not passed:  # on the first line, before any traceback
            first_line, newline, rest = message.partition("\n")
            message = first_line + suffix + newline + rest
        self.records.append(CheckRecord(**identity, passed=passed, message=message))

    def _unavailable_message(self, function_name: str) -> str:
        if self.deadline.time_left() <= 0:
            return f"not run: {self.deadline.total_time_reached()}"
        if self.workers.import_error:
            return self.workers.import_error
        if not self.workers.functions.get(function_name):
            return f"{function_name} is not defined in {self.entry}"
        return "the student worker could not be restarted after repeated crashes"

    def inputs_check(self) -> None:
        if self.input_changes:
            shown = "; ".join(self.input_changes[:3])
            more = f" (and {len(self.input_changes) - 3} more)" if len(self.input_changes) > 3 else ""
            message = (f"{shown}{more}. Work on copies (e.g. np.pad returns a new array); never write into "
                       f"{self.pack.INPUT_NAMES}")
            passed = False
        elif self.workers.import_error:
            passed, message = False, self.workers.import_error
        else:
            passed, message = True, "no call changed its inputs"
        if self.reported_changes:
            shown = "; ".join(self.reported_changes[:3])
            message += (f". Your own process reported: {shown}. The grader cannot verify a plain value's change "
                        f"(your process could hide it), so it is not scored; work on a copy all the same")
        self.records.append(CheckRecord(**self.pack.INPUTS_CHECK, passed=passed, message=message))

    def passed(self, call: str) -> bool:
        """Whether every check of ``call`` passed (only those are timed)."""
        return all(c.passed for c in self.records if c.call == call)
