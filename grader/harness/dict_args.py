"""Dict arguments that carry arrays and come back: batchnorm's ``bn_param`` holds plain
values (mode, eps, momentum) and the running statistics, which a train-mode call
updates in place and a later test-mode call reads.

A case passes such a dict as ``{"dict": {"values": {...}, "arrays": {key: input}}}``;
the worker gives the call its own copy and describes the dict back as the call left it
(grader/harness/worker_replies.py validates and copies it out). Here the harness
decides what it takes back: plain values and float arrays within the response
region's size, the entries it sent, and new entries only where the call declares
them (``layer.Call.writes``). Anything else refuses the dict, with a message that
names the entry; an undeclared entry that changed is an input change, as an array
input's is.

What the student left in the declared entries is carried into the case's next call
(the notebook's 50 train calls share one dict), so a running mean that was never
written back makes the test-mode output wrong, as it does in the notebook. From the
case's first dict call on, the declared entries are the student's alone: the case's
initial values (``initial_state``), then what each call left. A call whose dict was
refused, or that left an entry the grader cannot send on (not a float array of the
declared shape, nor a plain value), leaves that entry missing for the next call, as if
never written: never the reference's own statistics, which are the expected answers
of the earlier checks (a test-mode call given them would pass on a student's behalf).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .call_outcome import CallOutcome, Returned

MISSING = object()  # a declared entry the call's dict did not hold afterwards


@dataclass
class DictReturn:
    """One call's dict argument as the harness takes it back."""

    refusal: str = ""  # why the dict was not taken back ("" when it was)
    entries: dict[str, Returned] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # undeclared entries the call changed


def dict_index(args: list[dict]) -> int | None:
    """The index of the call's dict argument (a pack passes at most one)."""
    return next((i for i, spec in enumerate(args) if "dict" in spec), None)


def sent_entries(spec: dict, inputs: dict[str, np.ndarray]) -> dict[str, object]:
    """The dict as the harness sent it: plain values, and the arrays by their inputs."""
    return {**spec["dict"]["values"], **{key: inputs[name] for key, name in spec["dict"]["arrays"].items()}}


def with_carried(args: list[dict], inputs: dict[str, np.ndarray], param: str,
                 carried: dict[str, object]) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The case's arguments with the dict's declared entries replaced by what the
    student's earlier call of the case left there (``MISSING``: not there at all)."""
    index = dict_index(args)
    if index is None or not carried:
        return args, inputs
    values = {k: v for k, v in args[index]["dict"]["values"].items() if k not in carried}
    arrays = {k: v for k, v in args[index]["dict"]["arrays"].items() if k not in carried}
    replaced = {name for key, name in args[index]["dict"]["arrays"].items() if key in carried}
    inputs = {name: array for name, array in inputs.items() if name not in replaced}
    for key, value in carried.items():
        if isinstance(value, np.ndarray):
            arrays[key] = f"{param}[{key}]"
            inputs[arrays[key]] = value
        elif value is not MISSING:
            values[key] = value
    args = [*args[:index], {"dict": {"values": values, "arrays": arrays}}, *args[index + 1:]]
    return args, inputs


def _same(sent: object, back: Returned) -> bool:
    if isinstance(sent, np.ndarray):
        return back.kind == "array" and back.array is not None and back.array.dtype == sent.dtype and \
            np.array_equal(back.array, sent)
    return back.kind == "value" and type(back.value) is type(sent) and back.value == sent


def _problem(key: str, back: Returned, param: str, room: int) -> str:
    if back.kind == "other":
        return f"{key!r} holds a {back.type_name} (only numbers, strings, booleans, None and float arrays may stay in {param})"
    if back.too_large:
        return (f"{key!r} is a {back.dtype_name} array of shape {back.shape}, larger than the grader takes back "
                f"({room} bytes in all)")
    return ""


def read_back(outcome: CallOutcome, index: int, sent: dict[str, object], writes: tuple[str, ...], param: str,
              function: str, where: str, room: int, refillable: tuple[str, ...] = ()) -> DictReturn:
    """The call's dict as the harness takes it back, or why it is refused (one problem
    per entry, at most three, each naming its entry). ``room``: the bytes a call's dict
    arrays may take in all (the response region's size). ``refillable``: entries some
    call of the pack writes; one the student's earlier calls left missing may be put
    back by any call (the template stores the running statistics in test mode too)."""
    refused = f"the grader refused {param} as {function} left it {where}: "
    if index in outcome.dicts_refused:
        return DictReturn(refused + f"it {outcome.dicts_refused[index]}")
    back = outcome.dicts.get(index)
    if back is None:  # an honest worker always describes it
        return DictReturn(refused + "the student's process did not send it back")
    allowed = " and ".join(repr(k) for k in writes) or "nothing"
    problems = [f"it deleted {key!r}" for key in sent if key not in back]
    for key, value in back.items():
        problem = _problem(key, value, param, room)
        if not problem and key not in sent and key not in writes and key not in refillable:
            problem = f"it added {key!r}, which it may not write (it may write {allowed}; keep other values in the cache)"
        problems += [problem] if problem else []
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return DictReturn(refused + "; ".join(problems[:3]) + more)
    changed = [key for key, value in sent.items() if key not in writes and not _same(value, back[key])]
    return DictReturn(entries=back, changed=changed)


def initial_state(spec: dict, inputs: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict[str, object]:
    """The declared entries as the case's first dict call is sent them (``MISSING``: not
    in the dict): what the case's later calls start from, before the student's writes."""
    sent = sent_entries(spec, inputs)
    return {key: sent.get(key, MISSING) for key in keys}


def carried_state(taken: DictReturn, writes: tuple[str, ...],
                  shapes: dict[str, tuple[int, ...]] | None = None) -> dict[str, object]:
    """What the declared entries hold after the call, for the case's next call: a float
    array of the declared shape (``shapes``, the reference's, where known) or a plain
    value as the call left it, else ``MISSING`` (a refused dict, an entry deleted or
    not readable: an int or complex array, a forged description). A wrong shape is
    never sent on: the next request's region is sized for the declared statistics."""
    if taken.refusal:
        return {key: MISSING for key in writes}
    shapes = shapes or {}
    state: dict[str, object] = {}
    for key in writes:
        value = taken.entries.get(key)
        state[key] = MISSING
        if value is None:
            continue
        if value.kind == "array" and value.array is not None and value.array.dtype.kind == "f" and \
                value.array.shape == shapes.get(key, value.array.shape):
            state[key] = value.array
        elif value.kind == "value":
            state[key] = value.value
    return state
