"""The harness's side of checks by property (checking.Checker with a pack that defines
``property_checks``), with an in-process fake of the student's worker: each call of a case
runs, a repeated call keeps its own slot and the later call takes the latest one's, a
backward whose forward kept nothing is marked as having had the stand-in, and the pack's
verdicts become the records, in plan order, with their identities."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from grader.harness.assignments import cs231n_dropout as pack
from grader.harness.call_outcome import CallOutcome, Returned
from grader.harness.checking import Checker


class FakeStudent:
    """Runs the calls here, with the worker's argument specs ({"array"}, {"value"}, {"kept"},
    {"tuple"}) and its slots; ``broken`` names calls that raise."""

    def __init__(self, module, broken=()):
        self.module, self.broken = module, set(broken)
        self.kept: list[tuple[str, int, dict]] = []
        self.values: dict[str, object] = {}
        self.requests = []

    def _build(self, spec, inputs):
        if "array" in spec:
            return inputs[spec["array"]].copy()
        if "value" in spec:
            return spec["value"]
        if "kept" in spec:
            return self.values[spec["kept"]]
        return tuple(self._build(item, inputs) for item in spec["tuple"])

    def call(self, request, timeout):
        self.requests.append(request)
        if request.function in self.broken:
            return CallOutcome("raised", 0.0, error={"type": "ValueError", "message": "broken here"})
        args = [self._build(spec, request.inputs) for spec in request.args]
        value = getattr(self.module, request.function)(*args)
        values = value if isinstance(value, tuple) else (value,)
        results = {}
        for label, returned in zip(request.results, values):
            if label.startswith("@"):
                self.values[request.keep_as] = returned
                self.kept.append((request.keep_as, 0, {}))
            else:
                results[label] = Returned("array", "ndarray", "float64", returned.shape, returned)
        return CallOutcome("ok", 0.0, results=results)


def _checker(student) -> Checker:
    workers = SimpleNamespace(student=student, ensure_student=lambda: True, import_error="",
                              functions={name: True for name in pack.STUDENT_FUNCTIONS.values()},
                              forget=lambda slots: None)
    deadline = SimpleNamespace(time_left=lambda: 100.0, call_timeout=lambda s: 10.0,
                               total_time_reached=lambda: "")
    return Checker(pack, workers, deadline, 1e-9, "sub.py", 1 << 30, [])


class RightDropout:
    @staticmethod
    def dropout_forward(x, param):
        np.random.seed(param["seed"])
        mask = (np.random.rand(*x.shape) < param["p"]) / param["p"]
        return x * mask, (param, mask)

    @staticmethod
    def dropout_backward(dout, cache):
        return dout * cache[1]


def test_each_call_of_a_case_keeps_its_own_slot_and_the_backward_takes_the_latest():
    student = FakeStudent(RightDropout)
    checker = _checker(student)
    case = pack.hidden_cases(2, 1)[0]
    checker.check_case(case)
    forward_slots = [r.keep_as for r in student.requests if r.function == "dropout_forward"]
    assert forward_slots == ["cache-hidden-1-0", "cache-hidden-1-1"]
    backward = next(r for r in student.requests if r.function == "dropout_backward")
    assert backward.args[1] == {"kept": "cache-hidden-1-1"}
    assert [(r.id, r.call, r.function, r.layer, r.passed) for r in checker.records] == [
        ("forward/hidden-1/same-seed", "forward", "dropout_forward", "cs231n-dropout", True),
        ("forward/hidden-1/zero-or-scaled", "forward", "dropout_forward", "cs231n-dropout", True),
        ("forward/hidden-1/kept-fraction", "forward", "dropout_forward", "cs231n-dropout", True),
        ("backward/hidden-1/mask", "backward", "dropout_backward", "cs231n-dropout", True),
    ]
    planned = [c["id"] for c in pack.check_plan(1) if "hidden-1" in c["id"]]
    assert [r.id for r in checker.records] == planned


def test_a_backward_behind_a_raising_forward_is_judged_on_the_stand_in():
    student = FakeStudent(RightDropout, broken={"dropout_forward"})
    checker = _checker(student)
    checker.check_case(pack.hidden_cases(2, 1)[0])
    verdicts = {r.id.rsplit("/", 1)[1]: (r.passed, r.message) for r in checker.records}
    assert verdicts["same-seed"][0] is False and "ValueError: broken here" in verdicts["same-seed"][1]
    assert verdicts["mask"] == (True, "backward mask: dx = dout * mask with the grader's stand-in cache "
                                      "(your forward gave none)")
    backward = next(r for r in student.requests if r.function == "dropout_backward")
    assert set(backward.inputs) == {"dout", "mask"}  # the stand-in's mask travels as an array
