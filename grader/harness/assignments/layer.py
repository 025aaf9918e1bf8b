"""What every layer pack shares: how a pack declares its calls, how a
check is named and the order of the checks a grading reports. A pack passes its own
names and calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Call:
    """One call of a case's sequence, as a pack declares it; the harness runs a case's
    calls in order (``Case.calls``), student and reference alike, and knows nothing else
    of them.

    ``name`` is the role the check ids, rubric groups and timing rows carry ("forward").
    ``results`` are what the function returns, in order; "@label" is kept in the worker
    that made it, for later calls of the same case, and never sent (a forward's cache).
    ``needs`` are the kept results of earlier calls this call takes; when the student's
    earlier call gave none, the case passes the starter code's stand-in (``STAND_INS``).
    ``mutable`` are the inputs the call may change in place (a batchnorm forward's
    running mean in train mode); every other input must be left exactly as it was, or
    the inputs check fails and the call is not timed.
    ``writes`` are the entries of the call's dict argument (the pack's PARAM_NAME, passed
    as {"dict": ...}) that it must leave there (a train-mode batchnorm forward's
    running_mean and running_var): each is checked like a result, under its entry's name.
    The dict comes back to the harness after every call (grader/harness/dict_args.py);
    an entry not named here must come back unchanged, and none may be added or deleted.
    """

    name: str
    results: tuple[str, ...]
    needs: tuple[str, ...] = ()
    mutable: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    @property
    def sent(self) -> tuple[str, ...]:
        """The results the harness reads and checks."""
        return tuple(label for label in self.results if not label.startswith("@"))

    @property
    def graded(self) -> tuple[str, ...]:
        """Every label checked after the call: what it returns, then what it writes."""
        return self.sent + self.writes

    @property
    def kept(self) -> tuple[str, ...]:
        """The results kept in the worker for later calls (at most one: a worker keeps one value per call)."""
        return tuple(label[1:] for label in self.results if label.startswith("@"))


def inputs_check(layer_name: str, student_functions: dict[str, str]) -> dict[str, str]:
    """The identity of the check that no call changed its inputs: it covers every call of
    the layer ("all"), so it names all of the layer's functions."""
    return {"id": "inputs-unchanged", "name": "inputs are left unchanged", "call": "all",
            "function": ", ".join(dict.fromkeys(student_functions.values())), "layer": layer_name,
            "group": "inputs_unchanged"}  # (one function may serve several calls: batchnorm's three forwards)


def property_groups(calls: tuple[Call, ...]) -> dict[str, tuple[str, ...]]:
    """Rubric groups that check a property of the calls rather than their answers, and the
    calls they cover. Such a group earns its points only when at least one of those calls
    returned a correct output: code that crashes, returns garbage or does nothing leaves
    its inputs unchanged too, and earns nothing for it (the host's scoring applies this
    rule; the harness still reports what it saw)."""
    return {"inputs_unchanged": tuple(call.name for call in calls)}


# The plan cases of a forward/backward layer (conv, max pooling): the notebook checks each
# call on its own case, then every hidden case grades both. (case id, rubric case group,
# the calls it grades); a pack with other calls passes its own ``plan_cases``.
def forward_backward_cases(hidden_count: int) -> list[tuple[str, str, tuple[str, ...]]]:
    cases = [("notebook-forward", "notebook", ("forward",)), ("notebook-backward", "notebook", ("backward",))]
    return cases + [(f"hidden-{i + 1}", "hidden", ("forward", "backward")) for i in range(hidden_count)]


def check_identity(layer_name: str, student_functions: dict[str, str], case_id: str, case_group: str, call: str,
                   label: str) -> dict[str, str]:
    """id, name, call, function, layer and rubric group of one check: the harness records
    checks under these, and the host builds the same list when a submission cannot even be
    loaded. Every result but a single "out" is named in the id (a backward with dx alone
    still says /dx), so the conv and max-pool ids stay what they were before packs could
    name their own calls."""
    name = student_functions[call]
    return {
        "id": f"{call}/{case_id}" + (f"/{label}" if label != "out" else ""),
        "name": f"{name} {label}, {case_id.replace('-', ' ')} case",
        "call": call,
        "function": name,
        "layer": layer_name,
        "group": f"{call}_{case_group}",
    }


def check_plan(layer_name: str, student_functions: dict[str, str], calls: tuple[Call, ...],
               inputs: dict[str, str], cases: list[tuple[str, str, tuple[str, ...]]]) -> list[dict[str, str]]:
    """Every check a grading reports, in order: each plan case (each call it grades, in the
    pack's call order, each of that call's sent results, then the dict entries it writes),
    then the inputs check."""
    plan = []
    for case_id, group, graded in cases:
        for call in calls:
            if call.name in graded:
                plan += [check_identity(layer_name, student_functions, case_id, group, call.name, label)
                         for label in call.graded]
    return plan + [inputs]


def bound_checks(layer_name: str, student_functions: dict[str, str], calls: tuple[Call, ...],
                 plan_cases=forward_backward_cases):
    """A pack's ``check_identity(case_id, case_group, call, label)`` and
    ``check_plan(hidden_count)``, bound to its name, function names and calls.
    ``plan_cases(hidden_count)``: the (case id, case group, graded calls) a grading runs,
    in order, as the pack's ``notebook_cases`` and ``hidden_cases`` make them."""
    def identity(case_id: str, case_group: str, call: str, label: str) -> dict[str, str]:
        return check_identity(layer_name, student_functions, case_id, case_group, call, label)

    def plan(hidden_count: int) -> list[dict[str, str]]:
        return check_plan(layer_name, student_functions, calls, inputs_check(layer_name, student_functions),
                          plan_cases(hidden_count))

    return identity, plan


def is_hidden_check(check_id: str) -> bool:
    """Whether a check id (as ``check_identity`` makes it) belongs to a hidden case."""
    parts = check_id.split("/")
    return len(parts) > 1 and parts[1].startswith("hidden")


def is_exactly(got: np.ndarray, known: np.ndarray) -> bool:
    """Whether a wrong answer is exactly a known one (a named bug's, as a pack computes it):
    the same shape and equal to rounding, so a note names the bug only when it is that bug."""
    return got.shape == known.shape and bool(np.allclose(got, known, rtol=1e-9, atol=1e-12))


def worker_address_space_bytes(arena: tuple[int, int], limits: dict) -> int:
    """A worker's RLIMIT_AS: the student's memory limit, the arena it maps (request,
    response), and the address space Python, numpy and BLAS take on top."""
    request, response = arena
    return limits["memory_bytes"] + request + response + limits["address_space_overhead_bytes"]
