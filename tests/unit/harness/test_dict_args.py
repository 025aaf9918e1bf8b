"""Taking a dict argument back (grader/harness/dict_args.py): what is refused and how
the message names the entry, what counts as an undeclared change, and what the next
call of a case is given. Pure: the worker's description is built here as a reply's
would be after validation (the end-to-end run: tests/test_batchnorm_pack.py)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness import dict_args
from grader.harness.call_outcome import CallOutcome, Returned

WRITES = ("running_mean", "running_var")
WHERE = "at x (4, 5)"


def _array(values) -> Returned:
    array = np.asarray(values, dtype=float)
    return Returned("array", dtype_name="float64", shape=array.shape, array=array)


def _value(value) -> Returned:
    return Returned("value", type_name=type(value).__name__, value=value)


def _outcome(entries: dict[str, Returned]) -> CallOutcome:
    return CallOutcome("ok", 0.0, dicts={3: entries})


def _read(entries, sent=None):
    sent = {"mode": "train", "eps": 1e-5} if sent is None else sent
    return dict_args.read_back(_outcome(entries), 3, sent, WRITES, "bn_param", "batchnorm_forward", WHERE, 4096)


def test_declared_entries_are_taken_back_and_nothing_else_changed():
    taken = _read({"mode": _value("train"), "eps": _value(1e-5), "running_mean": _array([1, 2])})
    assert taken.refusal == "" and taken.changed == []
    assert dict_args.carried_state(taken, WRITES)["running_mean"].tolist() == [1, 2]
    assert dict_args.carried_state(taken, WRITES)["running_var"] is dict_args.MISSING


def test_an_undeclared_change_is_an_input_change_not_a_refusal():
    taken = _read({"mode": _value("test"), "eps": _value(1e-5)})
    assert taken.refusal == "" and taken.changed == ["mode"]
    assert _read({"mode": _value("train"), "eps": _value(1)}).changed == ["eps"]  # int 1 is not the float sent


def test_an_undeclared_new_entry_is_refused_by_name():
    taken = _read({"mode": _value("train"), "eps": _value(1e-5), "batch_mean": _array([0.5])})
    assert taken.refusal == (
        "the grader refused bn_param as batchnorm_forward left it at x (4, 5): it added 'batch_mean', which it may "
        "not write (it may write 'running_mean' and 'running_var'; keep other values in the cache)")


def test_a_deleted_entry_is_refused_by_name():
    taken = _read({"eps": _value(1e-5)})
    assert taken.refusal == "the grader refused bn_param as batchnorm_forward left it at x (4, 5): it deleted 'mode'"


def test_an_object_is_refused_by_name():
    taken = _read({"mode": _value("train"), "eps": _value(1e-5), "running_mean": Returned("other", type_name="list")})
    assert taken.refusal == (
        "the grader refused bn_param as batchnorm_forward left it at x (4, 5): 'running_mean' holds a list (only "
        "numbers, strings, booleans, None and float arrays may stay in bn_param)")
    # Nothing of a refused dict is carried: the next call lacks both entries, as if they were never
    # written (the reference's statistics there would be the earlier checks' expected answers).
    assert dict_args.carried_state(taken, WRITES) == {"running_mean": dict_args.MISSING,
                                                      "running_var": dict_args.MISSING}


def test_a_huge_array_is_refused_by_name():
    huge = Returned("array", dtype_name="float64", shape=(10**9,), too_large=True)
    taken = _read({"mode": _value("train"), "eps": _value(1e-5), "running_var": huge})
    assert taken.refusal == (
        "the grader refused bn_param as batchnorm_forward left it at x (4, 5): 'running_var' is a float64 array of "
        "shape (1000000000,), larger than the grader takes back (4096 bytes in all)")


def test_a_dict_with_too_many_entries_is_refused_whole():
    outcome = CallOutcome("ok", 0.0, dicts_refused={3: "holds more than 32 entries"})
    taken = dict_args.read_back(outcome, 3, {}, WRITES, "bn_param", "batchnorm_forward", WHERE, 4096)
    assert taken.refusal.endswith("left it at x (4, 5): it holds more than 32 entries")


def test_arrays_sent_in_the_dict_must_come_back_equal_unless_declared():
    sent = {"mode": "train", "scale": np.array([1.0, 2.0])}
    same = _read({"mode": _value("train"), "scale": _array([1.0, 2.0])}, sent)
    other = _read({"mode": _value("train"), "scale": _array([1.0, 3.0])}, sent)
    assert same.changed == [] and other.changed == ["scale"]


def test_the_next_call_gets_what_the_student_left():
    args = [{"array": "x"}, {"dict": {"values": {"mode": "train", "running_var": 2.0},
                                      "arrays": {"running_mean": "bn_param[running_mean]"}}}]
    inputs = {"x": np.zeros(2), "bn_param[running_mean]": np.zeros(2)}
    carried = {"running_mean": np.ones(2), "running_var": dict_args.MISSING}
    new_args, new_inputs = dict_args.with_carried(args, inputs, "bn_param", carried)
    assert new_args[1] == {"dict": {"values": {"mode": "train"}, "arrays": {"running_mean": "bn_param[running_mean]"}}}
    assert new_inputs["bn_param[running_mean]"].tolist() == [1.0, 1.0] and new_inputs["x"] is inputs["x"]
    assert args[1]["dict"]["values"] == {"mode": "train", "running_var": 2.0}  # the case's own arguments stay


def test_an_entry_the_grader_cannot_send_on_is_carried_as_missing():
    """An int or complex array (not read back), a forged "none", or a float array of a
    shape other than the declared statistic's: the next call lacks the entry."""
    ints = Returned("array", dtype_name="int64", shape=(2,))
    wide = _array(np.zeros(250_000))
    for odd in (ints, Returned("array", dtype_name="complex128", shape=(2,)), Returned("none"), wide):
        taken = _read({"mode": _value("train"), "eps": _value(1e-5), "running_mean": odd, "running_var": _array([1, 2])})
        assert taken.refusal == ""
        carried = dict_args.carried_state(taken, WRITES, {"running_mean": (2,), "running_var": (2,)})
        assert carried["running_mean"] is dict_args.MISSING and carried["running_var"].tolist() == [1, 2]
    # A plain value stays what the student left (a None there makes their own test call fail, as in the notebook).
    taken = _read({"mode": _value("train"), "eps": _value(1e-5), "running_mean": _value(None)})
    assert dict_args.carried_state(taken, WRITES)["running_mean"] is None


def test_later_calls_start_from_the_case_s_initial_entries():
    spec = {"dict": {"values": {"mode": "train", "eps": 1e-3}, "arrays": {"running_var": "bn_param[running_var]"}}}
    state = dict_args.initial_state(spec, {"bn_param[running_var]": np.ones(2)}, WRITES)
    assert state["running_mean"] is dict_args.MISSING and state["running_var"].tolist() == [1.0, 1.0]


def _reply_reader():
    from grader.harness.protocol import Arena
    from grader.harness.worker_replies import ReplyReader

    arena = Arena.create(1024, 1024)
    return arena, ReplyReader(("batchnorm_forward",), arena, None, direct_reads=False)


def test_a_reply_s_dict_is_validated_and_its_arrays_copied_out():
    """The harness's side of the wire: plain values pass, an array is copied out of the
    response region, an array past the region's room is described and never read."""
    arena, reader = _reply_reader()
    try:
        offset = arena.request_bytes
        arena.view({"dtype": "<f8", "shape": [2], "offset": offset})[:] = [3.0, 4.0]
        entries = [["mode", {"kind": "value", "value": "train"}],
                   ["running_mean", {"kind": "array", "dtype": "<f8", "dtype_name": "float64", "shape": [2],
                                     "offset": offset}],
                   ["huge", {"kind": "array", "dtype": "<f8", "dtype_name": "float64", "shape": [10**9],
                             "offset": None, "too_large": True}],
                   ["cache", {"kind": "other", "type": "tuple"}]]
        dicts, refused = reader._dicts({"3": entries})
        assert refused == {}
        back = dicts[3]
        assert back["mode"].value == "train" and back["running_mean"].array.tolist() == [3.0, 4.0]
        assert back["huge"].too_large and back["huge"].array is None and back["cache"].type_name == "tuple"
        arena.view({"dtype": "<f8", "shape": [2], "offset": offset})[:] = 0  # a copy: the arena is not read again
        assert back["running_mean"].array.tolist() == [3.0, 4.0]
    finally:
        arena.close()


def test_a_reply_s_dict_that_breaks_the_protocol_is_refused():
    import pytest

    from grader.harness.protocol import ProtocolError

    arena, reader = _reply_reader()
    try:
        for sent in ({"x": []}, {"3": [["a", {"kind": "value", "value": [1, 2]}]]}, {"3": [[1, {"kind": "none"}]]},
                     {"3": [["a", {"kind": "value", "value": 1}], ["a", {"kind": "value", "value": 1}]]}):
            with pytest.raises(ProtocolError):
                reader._dicts(sent)
        too_many = [[f"k{i}", {"kind": "value", "value": i}] for i in range(33)]
        assert reader._dicts({"3": too_many}) == ({}, {3: "holds more than 32 entries"})
    finally:
        arena.close()


def test_a_forged_non_finite_dict_value_refuses_the_reply():
    """json.loads reads NaN, Infinity and 1e999; sent on in the next request they would
    make its encode_message raise ValueError outside any handler. The reply is refused
    (the worker stopped) instead."""
    import time

    from grader.harness.worker_replies import ReplyRefused

    arena, reader = _reply_reader()
    try:
        for forged in ("NaN", "Infinity", "-Infinity", "1e999"):
            body = ('{"ok":true,"results":{"out":{"kind":"none"}},"dicts":{"3":[["mode",{"kind":"value","value":"train"}],'
                    f'["eps",{{"kind":"value","value":{forged}}}]]}}}}').encode()
            with pytest.raises(ReplyRefused, match="non-finite"):
                reader.parse(body, time.monotonic_ns(), ["out"], expect_ready=False)
        finite = body.replace(b"1e999", b"1e-05")
        assert reader.parse(finite, time.monotonic_ns(), ["out"], expect_ready=False).dicts[3]["eps"].value == 1e-5
    finally:
        arena.close()


def test_the_worker_describes_what_it_cannot_send_by_type():
    """The worker's side (untrusted_worker.describe_dict): non-string keys, NaN, ints past 64
    bits and objects are described, never sent as values; an array is placed in the arena;
    a dict of a million entries is cut short for the harness to refuse."""
    import importlib
    import sys
    from pathlib import Path

    from grader.harness.protocol import Arena

    folder = str(Path(__file__).resolve().parents[3] / "grader" / "harness")
    sys.path.insert(0, folder)  # the worker imports its helpers as top-level modules, as in its process
    try:
        worker_module = importlib.import_module("untrusted_worker")
    finally:
        sys.path.remove(folder)
    arena = Arena.create(1024, 1024)
    try:
        worker = worker_module.Worker.__new__(worker_module.Worker)
        worker.arena, worker.sent = arena, []
        entries, _ = worker.describe_dict({"mode": "train", 3: 1.0, "nan": float("nan"), "big": 2**70, "obj": [1],
                                           "mean": np.array([1.0, 2.0])}, arena.request_bytes, False)
        described = dict(entries)
        assert described["mode"] == {"kind": "value", "value": "train"}
        assert described["3 (not a string)"] == {"kind": "value", "value": 1.0}
        assert described["nan"] == {"kind": "other", "type": "non-finite float nan"}
        assert described["big"]["kind"] == "other" and described["obj"] == {"kind": "other", "type": "list"}
        assert described["mean"]["shape"] == [2] and arena.view(described["mean"]).tolist() == [1.0, 2.0]
        many, _ = worker.describe_dict({f"k{i}": i for i in range(10**6)}, arena.request_bytes, False)
        assert len(many) == 33
    finally:
        arena.close()


def test_inputs_past_the_request_region_fail_the_call_not_the_grading():
    """A carried array can be larger than the request region has room for: Arena.put's
    ProtocolError becomes that call's failure (its checks fail), never a harness error."""
    from grader.harness.call_messages import describe_failure
    from grader.harness.checking import Checker
    from grader.harness.protocol import Arena
    from grader.harness.workers import CallRequest

    arena = Arena.create(1024, 1024)

    class Student:  # places the inputs as WorkerProcess.call does, before anything is sent
        def call(self, request, timeout):
            arena.put(request.inputs, start=0, end=arena.request_bytes)
            raise AssertionError("not reached")

    try:
        request = CallRequest("batchnorm_forward", [], ["out"], {"bn_param[running_mean]": np.zeros(250_000)})
        outcome = Checker._call(Student(), request, 1.0)
    finally:
        arena.close()
    assert not outcome.ok
    assert describe_failure(outcome, "batchnorm_forward", 2**30, WHERE) == (
        "batchnorm_forward: was not called: the grader could not send its inputs (bn_param[running_mean]: 2000000 "
        "bytes do not fit in the arena) at x (4, 5)")


def test_a_statistic_left_missing_may_be_put_back_by_a_call_that_writes_nothing():
    """A test-mode call whose bn_param lacks the running mean (the student's train call
    left none readable) and that stores one back, as the template's closing lines do in
    every mode: not a new entry it may not write."""
    back = {"mode": _value("test"), "running_mean": _array([0, 0])}
    refused = dict_args.read_back(_outcome(back), 3, {"mode": "test"}, (), "bn_param", "batchnorm_forward", WHERE, 4096)
    allowed = dict_args.read_back(_outcome(back), 3, {"mode": "test"}, (), "bn_param", "batchnorm_forward", WHERE, 4096,
                                  refillable=WRITES)
    assert "it added 'running_mean'" in refused.refusal and allowed.refusal == "" and allowed.changed == []
