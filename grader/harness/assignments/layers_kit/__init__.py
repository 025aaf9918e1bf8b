"""The self-check kit of any pack or bundle without a kit of its own (`make student-kit
ASSIGNMENT=X`, built by grader/kit/build.py): the notebook's public cases of every
layer, replayed on the student's machine with numpy only.

    check.py    shipped as check.py: loads the student's file, runs every layer's cases
    README.txt  shipped as README.txt
    (this file) build side only: each layer's notebook cases as data (``layer_cases``)

Generic over packs: a case travels as the calls the grader makes (each call's argument
specs, as ``Case.arguments`` gives them to the grader's worker, and its input arrays)
and the reference's answers, computed here; the runner needs no pack code. Only the
notebook's cases ship: they are published in the notebook already. Hidden cases never
do (tests/kit proves it). A pack graded by property (dropout: its mask is random) has no
expected answer to ship; the kit says it does not check that layer.
"""

from __future__ import annotations

import json

import numpy as np

from .. import is_bundle
from ..bundle import namespaced

RUNNER = "check.py"
README = "README.txt"
MODULES = ()  # the runner needs only the modules grader/kit/build.py ships to every kit


def layers_of(assignment) -> list[tuple[str, object]]:
    """(layer key, pack) of each layer: a bundle's, or a lone pack as one layer keyed by
    its name without the course's prefix ("cs231n-maxpool" is "maxpool")."""
    if is_bundle(assignment):
        return [(layer.key, layer.pack) for layer in assignment.layers]
    return [(assignment.NAME.partition("-")[2] or assignment.NAME, assignment)]


def _plain(value):
    """A spec's plain values as JSON (a pack may hold numpy scalars in its parameters)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def layer_cases(assignment) -> tuple[dict, dict[str, np.ndarray]]:
    """(description, arrays): what kit/assignment.json and kit/cases.npz hold. Every array
    is named "<layer>/<case index>/<call index>/<in|want>/<name>"."""
    bundle = is_bundle(assignment)
    layers, arrays = [], {}
    for key, pack in layers_of(assignment):
        calls = {call.name: call for call in pack.CALLS}
        described = {"key": key, "name": pack.NAME, "title": pack.TITLE, "param": pack.PARAM_NAME,
                     "input_names": pack.INPUT_NAMES, "tolerance": pack.DEFAULT_RUBRIC["tolerance"],
                     "functions": sorted(set(pack.STUDENT_FUNCTIONS.values())),
                     "by_property": callable(getattr(pack, "property_checks", None)), "cases": [],
                     "inputs_id": (namespaced(pack.INPUTS_CHECK, key) if bundle else pack.INPUTS_CHECK)["id"]}
        layers.append(described)
        if described["by_property"]:
            continue
        for c, case in enumerate(pack.notebook_cases()):
            expected = pack.expected_outputs(case)
            steps = []
            for i, name in enumerate(case.calls):
                call, prefix = calls[name], f"{key}/{c}/{i}/"
                # With what the student's earlier call kept (the spec says {"kept": label}), and
                # without it (the starter code's stand-in), as the grader's checker chooses.
                args, inputs = case.arguments(name, {label: label for label in call.needs})
                stand_in, more = case.arguments(name, {})
                arrays.update({prefix + "in/" + n: np.asarray(a) for n, a in {**inputs, **more}.items()})
                checks = []
                for label in call.graded if name in case.graded else ():
                    want = expected[(name, label)] if (name, label) in expected else expected[label]
                    accepted = want if isinstance(want, tuple) else (want,)  # every answer the pack accepts
                    arrays.update({f"{prefix}want/{label}/{k}": np.asarray(a) for k, a in enumerate(accepted)})
                    identity = pack.check_identity(case.id, case.group, name, label)
                    identity = namespaced(identity, key) if bundle else identity
                    checks.append({"id": identity["id"], "label": label, "accepted": len(accepted)})
                steps.append({"call": name, "function": pack.STUDENT_FUNCTIONS[name], "results": list(call.results),
                              "writes": list(call.writes), "needs": list(call.needs), "mutable": list(call.mutable),
                              "args": args, "stand_in": stand_in, "checks": checks})
            described["cases"].append({"id": case.id, "where": case.where, "steps": steps})
    # Through JSON once here, so a spec that would not survive the trip fails the build.
    return json.loads(json.dumps({"title": assignment.TITLE, "layers": layers}, default=_plain)), arrays
