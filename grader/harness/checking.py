"""The correctness checks: each case's calls in the student's worker, every graded result
compared with the reference's (or, for a pack that grades by property, judged by the pack:
properties.py), and the check that no call changed its inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dict_args, speed_feedback
from .call_messages import describe_failure
from .checks import FLOAT32_HINT, compare, not_an_array
from .deadline import Deadline
from .call_outcome import CallOutcome, Returned
from .properties import CallOutput, grades_by_property
from .protocol import ProtocolError
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
        by_property = grades_by_property(self.pack)
        outputs: list[CallOutput] = []
        # The declared dict entries for the next calls: from the case's first dict call on,
        # its initial values and then the student's writes only (dict_args), never the
        # reference's chain the pack's own arguments hold.
        carried: dict[str, object] = {}
        declared = tuple(dict.fromkeys(key for c in self.pack.CALLS for key in c.writes))
        wrong_writes: list[str] = []  # the written entries that failed a check so far in this case
        unread: set[str] = set()  # declared entries the latest writer left unreadable (carried as missing)
        for index, call in enumerate(self.calls[name] for name in case.calls):
            name = self.names[call.name]
            # One slot per call of the case: a call may repeat (a seeded forward twice), and a
            # later call takes what the latest one kept.
            slot = f"{call.kept[0]}-{case.id}-{index}" if call.kept else None
            slots += [slot] if slot else []
            outcome, taken, note = None, None, ""
            if declared and not carried:
                first_args, first_inputs = case.arguments(call.name, {})
                index_of_dict = dict_args.dict_index(first_args)
                if index_of_dict is not None:
                    carried = dict_args.initial_state(first_args[index_of_dict], first_inputs, declared)
            if self.deadline.time_left() > 0 and self.workers.ensure_student() and self.workers.functions.get(name):
                student = self.workers.student
                # A worker restarted since the earlier call no longer holds what it kept.
                kept = {label: held for label, held in made.items() if any(k[0] == held for k in student.kept)}
                args, inputs = case.arguments(call.name, kept)
                args, inputs = dict_args.with_carried(args, inputs, self.pack.PARAM_NAME, carried)
                outcome = self._call(student, CallRequest(name, args, list(call.results), inputs, slot,
                                                          extra=self._watch_request(), may_change=call.mutable),
                                     timeout)
                self._note_changes(outcome, name, case, args, call)
                self._note_observed(outcome, call.name)
                taken = self._take_dict(outcome, args, inputs, call, name, case)
                if taken is not None:
                    shapes = {key: np.shape(expected[(call.name, key)]) for key in call.writes
                              if (call.name, key) in expected}
                    state = dict_args.carried_state(taken, call.writes, shapes)
                    carried.update(state)
                    lost = {key for key, value in state.items()
                            if value is dict_args.MISSING and (taken.refusal or key in taken.entries)}
                    unread = (unread - set(call.writes)) | lost
                elif call.writes and dict_args.dict_index(args) is not None:
                    # It raised, timed out or died: what it wrote cannot be read, and is not
                    # the reference's either.
                    carried.update({key: dict_args.MISSING for key in call.writes})
                    unread |= set(call.writes)
                if slot and outcome.ok:
                    made[call.kept[0]] = slot
                note = self._stand_in_note(call, made)
                if dict_args.dict_index(args) is not None:
                    note += self._carried_note(call, carried, wrong_writes, unread)
            self.saw(call.name, outcome)
            if by_property:
                output = self._output(case, call, outcome, name, note)
                # The kept results this call got as the starter code's stand-ins (its earlier call gave none).
                output.stood_in = tuple(label for label in call.needs if label not in made) if outcome else ()
                outputs.append(output)
            elif call.name in case.graded:
                for label in call.graded:
                    want = expected[(call.name, label)] if (call.name, label) in expected else expected[label]
                    if label in call.writes:
                        self._record_written(case, call, label, outcome, taken, want, name, note)
                        wrong_writes += [label] if not self.records[-1].passed else []
                    else:
                        # A known bug's answer is no explanation where the grader left out entries.
                        self._record(case, call.name, label, outcome, want, name, note,
                                     name_bug=bool(call.writes) or not unread)
        if slots:
            self.workers.forget(slots)
        if by_property:
            for call_name, label, passed, message in self.pack.property_checks(case, outputs):
                identity = self.pack.check_identity(case.id, case.group, call_name, label)
                self.records.append(CheckRecord(**identity, passed=bool(passed), message=message))

    def saw(self, call: str, outcome: CallOutcome | None) -> None:
        """Every call's outcome, checked or not, by answers or by property (a bundle's layer
        checker watches them for the starter stub: layer_checks)."""

    @staticmethod
    def _call(student, request: CallRequest, timeout: float) -> CallOutcome:
        """The call's outcome; inputs that do not fit the request region (a student's
        array carried from an earlier call) fail this call, not the grading."""
        try:
            return student.call(request, timeout)
        except ProtocolError as exc:
            return CallOutcome("protocol", 0.0, message=f"was not called: the grader could not send its inputs ({exc})")

    def _output(self, case, call, outcome: CallOutcome | None, function_name: str, note: str) -> CallOutput:
        """What one call gave, for the pack's property checks: each sent result as an array,
        or the message a compared check would have given for it."""
        if outcome is None or not outcome.ok:
            problem = self._failure_message(outcome, function_name, case)
            return CallOutput(call.name, problems={label: problem for label in call.sent}, note=note)
        arrays, problems = {}, {}
        for label in call.sent:
            returned = outcome.results.get(label)
            problem = not_an_array(label, returned, case.where) if returned is not None else f"no {label} returned"
            if problem:
                problems[label] = problem
            else:
                arrays[label] = returned.array
        return CallOutput(call.name, arrays, problems, note)

    def _failure_message(self, outcome: CallOutcome | None, function_name: str, case) -> str:
        """What a check says of a call that gave no results (not run, raised, timed out, ...)."""
        if outcome is None:
            return self._unavailable_message(function_name)
        if outcome.status == "timeout" and self.deadline.time_left() <= 0:
            return f"{function_name} was stopped: {self.deadline.total_time_reached()}"
        return describe_failure(outcome, function_name, self.memory_bytes, case.where)

    def _take_dict(self, outcome: CallOutcome, args: list[dict], inputs: dict, call, function_name: str,
                   case) -> dict_args.DictReturn | None:
        """The call's dict argument as it came back (dict_args), its undeclared changes
        noted for the inputs check; None where the call has none or gave no answer."""
        index = dict_args.dict_index(args)
        if index is None or not outcome.ok:
            return None
        param = self.pack.PARAM_NAME
        room = self.workers.student.arena.response_bytes
        taken = dict_args.read_back(outcome, index, dict_args.sent_entries(args[index], inputs), call.writes, param,
                                    function_name, case.where, room,
                                    tuple(key for c in self.pack.CALLS for key in c.writes))
        for key in taken.changed:
            self.input_changes.append(f"{function_name} changed {param}[{key!r}] {case.where}")
        if taken.refusal and not call.writes:  # nothing of it is graded: the refusal is an input change
            self.input_changes.append(taken.refusal)
        return taken

    def _carried_note(self, call, carried: dict[str, object], wrong_writes: list[str], unread: set[str]) -> str:
        """Said on a failed check of a call that read entries an earlier call of the case
        wrote wrongly (or left unreadable, so that this call got none): the earlier check
        is the one to fix first."""
        if call.writes or not wrong_writes:
            return ""
        if unread:
            missing = ", ".join(key for key in carried if key in unread)
            return (f" (it got no {missing} in {self.pack.PARAM_NAME}: the grader could not take back what your "
                    f"earlier calls left there)")
        entries = ", ".join(dict.fromkeys(key for key in wrong_writes if key in carried))
        return f" (it got the {entries} your earlier calls left in {self.pack.PARAM_NAME}, which were wrong)" \
            if entries else ""

    def _record_written(self, case, call, label: str, outcome: CallOutcome | None, taken, expected,
                        function_name: str, suffix: str) -> None:
        """A check of an entry the call writes into its dict argument, like a result's."""
        param = self.pack.PARAM_NAME
        if outcome is None or not outcome.ok or taken is None:
            self._record(case, call.name, label, outcome, expected, function_name, suffix)
        elif taken.refusal:
            self._record(case, call.name, label, outcome, expected, function_name, suffix, failure=taken.refusal)
        elif label not in taken.entries:
            self._record(case, call.name, label, outcome, expected, function_name, suffix,
                         failure=f"{param} has no {label!r} after {function_name} {case.where}: the call must "
                                 f"store it in {param}[{label!r}]")
        else:
            self._record(case, call.name, label, outcome, expected, function_name, suffix,
                         returned=taken.entries[label])

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
                expected: np.ndarray | tuple[np.ndarray, ...], function_name: str, suffix: str = "",
                returned: Returned | None = None, failure: str = "", name_bug: bool = True) -> None:
        """One check's record. ``returned``: the value to judge when it is not one of the
        call's results (a dict entry it wrote); ``failure``: the check's message when the
        call answered but the value cannot be judged (a refused dict)."""
        identity = self.pack.check_identity(case.id, case.group, function, label)
        if returned is None and outcome is not None and outcome.ok:
            returned = outcome.results.get(label)
        if outcome is not None and outcome.ok and failure:
            passed, message = False, failure
        elif outcome is not None and outcome.ok and returned is not None:
            # A tuple: every answer the pack accepts (max pooling's two subgradients at ties).
            accepted = expected if isinstance(expected, tuple) else (expected,)
            verdicts = [compare(label, returned, one, self.tolerance, case.where) for one in accepted]
            verdict = next((v for v in verdicts if v.passed), verdicts[0])
            passed, message = verdict.passed, verdict.message
            got = returned.array
            note = "" if verdict.passed or not name_bug else self.pack.wrong_answer_note(case, label, got)
            if note:  # the named bug explains a small error better than float32 precision does
                message = message.replace(FLOAT32_HINT, "")
            message += self.pack.published_note(case.id, got) if verdict.passed else note
        else:
            passed, message = False, self._failure_message(outcome, function_name, case)
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
