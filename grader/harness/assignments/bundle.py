"""An assignment bundle: several packs graded from one file in one grading (one sandbox,
one worker pair, one result), e.g. ``cs231n-a2``, every layer of assignment 2's
``layers.py``. The registry (``BUNDLES`` in this folder's ``__init__``) names its packs.

Each pack is a *layer* of the bundle, keyed by its name without the course's prefix
("cs231n-conv" in "cs231n-a2" is "conv"). A layer's checks are its pack's own, with the
key in front: id "conv/forward/hidden-3/dx", rubric group "conv.forward_hidden",
"conv/inputs-unchanged" in group "conv.inputs_unchanged". The harness runs each layer's
cases with its own pack (``layers``); this object declares what the host reads of a
pack (the plan, rubric, property groups, student functions, sizes), built from the
layers' declarations, so the host grades a bundle as it grades a pack.

Rubric: a weight per layer (points), each layer's own groups inside it, scaled to the
weight. The default weight is equal: 100 points split evenly over the bundle's layers.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from types import ModuleType

from . import layer as layer_module

# The reference worker's module for a bundle: every reference module by its name, so
# "strided.conv_forward" and "maxpool.max_pool_forward" live side by side (reference/by_module.py).
REFERENCE_ENTRY = "reference/by_module.py"
TOTAL_POINTS = 100.0


@dataclass(frozen=True)
class Layer:
    """One pack of a bundle: ``key`` prefixes its check ids and rubric groups, ``pack`` is
    the pack as the harness runs it in the bundle's workers (``InBundle``), ``races``
    whether the course races it (timed by default)."""

    key: str
    pack: "InBundle"
    races: bool


class InBundle:
    """A pack as the bundle's reference worker knows it: every name the pack's own, but its
    reference functions named by module (the worker imports one module holding them all)."""

    def __init__(self, pack: ModuleType):
        self._pack = pack
        module = os.path.splitext(os.path.basename(pack.REFERENCE_ENTRY))[0]
        self.REFERENCE_FUNCTIONS = {call: f"{module}.{name}" for call, name in pack.REFERENCE_FUNCTIONS.items()}

    def __getattr__(self, name: str):
        return getattr(self._pack, name)


def namespaced(identity: dict, key: str) -> dict:
    """A layer's check identity (or record) as the bundle reports it: id, group and call
    under the layer's key. ``call`` becomes the bundle's call name ("conv/forward", its
    STUDENT_FUNCTIONS key), unique in the result, so the host looks a bundle's checks up by
    call as it does a pack's; "all" (a check of every call, the inputs check) stays "all", its
    name prefixed by the key instead ("maxpool: inputs are left unchanged").
    ``function`` (the student's) and ``layer`` (the pack's name) are the pack's own."""
    call = identity.get("call")
    # A check of every call is named after no function: its name then says the layer, so
    # two layers' "inputs are left unchanged" stay apart (Gradescope shows names alone).
    named = {"call": bundle_call(key, call)} if call not in (None, "all") else {"name": f"{key}: {identity['name']}"}
    return {**identity, "id": f"{key}/{identity['id']}", "group": f"{key}.{identity['group']}", **named}


def bundle_call(key: str, call: str) -> str:
    """A layer's call as the bundle names it (checks, timing rows, line profiles, evidence)."""
    return f"{key}/{call}"


class Bundle:
    """What the host reads of an assignment, for several packs at once (see the module doc).
    Built once per name (``named``)."""

    IS_BUNDLE = True
    KIT = None  # the generic kit (grader/harness/assignments/layers_kit): every layer's notebook cases
    _made: dict[str, "Bundle"] = {}

    @classmethod
    def named(cls, name: str, packs: tuple[ModuleType, ...], racing: frozenset[str]) -> "Bundle":
        if name not in cls._made:
            cls._made[name] = cls(name, packs, racing)
        return cls._made[name]

    def __init__(self, name: str, packs: tuple[ModuleType, ...], racing: frozenset[str]):
        prefix = name.partition("-")[0] + "-"
        self.NAME = name
        self.layers = tuple(Layer(pack.NAME.removeprefix(prefix), InBundle(pack), pack.NAME in racing)
                            for pack in packs)
        self._check_distinct(packs)
        self.TITLE = "; ".join(pack.TITLE for pack in packs)
        self.SUBJECT = "layers"  # what-if feedback: "your layers would pass 60 of 74 checks"
        self.STUDENT_FUNCTIONS = {bundle_call(l.key, call): fn for l in self.layers
                                  for call, fn in l.pack.STUDENT_FUNCTIONS.items()}
        self.REFERENCE_FUNCTIONS = {bundle_call(l.key, call): fn for l in self.layers
                                    for call, fn in l.pack.REFERENCE_FUNCTIONS.items()}
        self.REFERENCE_ENTRY = REFERENCE_ENTRY
        self.CALLS = tuple(dataclasses.replace(c, name=bundle_call(l.key, c.name))
                           for l in self.layers for c in l.pack.CALLS)
        self.STARTER_TEMPLATE = "\n".join(pack.STARTER_TEMPLATE for pack in packs)
        self.SANDBOX_PACKAGES = {k: v for pack in packs for k, v in pack.SANDBOX_PACKAGES.items()}
        self.PROPERTY_GROUPS = {f"{l.key}.{group}": tuple(bundle_call(l.key, call) for call in calls)
                                for l in self.layers for group, calls in l.pack.PROPERTY_GROUPS.items()}
        # Its length is the default hidden-case count of every layer: the longest list, so
        # every layer meets each of its hidden shapes (packs cycle through their shapes).
        self.HIDDEN_SHAPES = max((pack.HIDDEN_SHAPES for pack in packs), key=len)
        self.SPEED_SIZES = {size: shapes for size, shapes in packs[0].SPEED_SIZES.items()
                            if all(size in pack.SPEED_SIZES for pack in packs)}
        weights = self.default_weights()
        self.DEFAULT_RUBRIC = {
            "points": self.flat_points({l.key: {"weight": weights[l.key], "points": l.pack.DEFAULT_RUBRIC["points"]}
                                        for l in self.layers}),
            # The strictest layer's: what a course-wide rubric.tolerance starts from; each layer
            # is checked with its own pack's unless the configuration sets one (rubric.layers).
            "tolerance": min(pack.DEFAULT_RUBRIC["tolerance"] for pack in packs),
            "speed": {"enabled": False, "points": 0, "thresholds": []},
        }

    def _check_distinct(self, packs: tuple[ModuleType, ...]) -> None:
        """Two layers may not share a key or a student function: one file defines each once."""
        keys = [l.key for l in self.layers]
        # (a pack may call one function several times: batchnorm's train and test forwards)
        functions = [fn for pack in packs for fn in dict.fromkeys(pack.STUDENT_FUNCTIONS.values())]
        if len(set(keys)) != len(keys) or len(set(functions)) != len(functions):
            raise ValueError(f"bundle {self.NAME}: its packs share a layer key or a student function")

    # -- the rubric -----------------------------------------------------------------

    def layer(self, key: str) -> Layer:
        return next(l for l in self.layers if l.key == key)

    def key_of(self, pack_name: str) -> str:
        """The layer key of the bundle's pack named ``pack_name``."""
        return next(l.key for l in self.layers if l.pack.NAME == pack_name)

    def default_weights(self) -> dict[str, float]:
        """Equal weights: TOTAL_POINTS split evenly over the layers."""
        return {l.key: TOTAL_POINTS / len(self.layers) for l in self.layers}

    def resolve_rubric(self, given: dict, tolerance: float | None = None) -> dict[str, dict]:
        """Every layer's weight, groups and tolerance: the configuration's ``rubric.layers``
        (``given``, {key: {"weight", "points", "tolerance"}}, any part left out) over the
        defaults; a layer's tolerance left out is ``tolerance`` (the course's rubric.tolerance)
        where given, else its pack's. Raises ValueError naming an unknown layer or group."""
        unknown = set(given) - {l.key for l in self.layers}
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)} in rubric.layers for {self.NAME}; "
                             f"known: {[l.key for l in self.layers]}")
        weights = self.default_weights()
        resolved = {}
        for l in self.layers:
            mine = dict(given.get(l.key) or {})
            groups = l.pack.DEFAULT_RUBRIC["points"]
            bad = set(mine.get("points") or {}) - set(groups)
            if bad:
                raise ValueError(f"unknown rubric groups {sorted(bad)} for layer {l.key}; known: {sorted(groups)}")
            resolved[l.key] = {
                "weight": mine.get("weight") if mine.get("weight") is not None else weights[l.key],
                "points": {**groups, **(mine.get("points") or {})},
                "tolerance": next(t for t in (mine.get("tolerance"), tolerance, l.pack.DEFAULT_RUBRIC["tolerance"])
                                  if t is not None),
            }
        return resolved

    @staticmethod
    def flat_points(layers: dict[str, dict]) -> dict[str, float]:
        """The rubric groups the scoring reads ("conv.forward_hidden"): each layer's groups
        scaled so they add up to its weight (a layer whose groups are all 0 earns nothing)."""
        flat = {}
        for key, spec in layers.items():
            total = sum(spec["points"].values())
            for group, points in spec["points"].items():
                flat[f"{key}.{group}"] = spec["weight"] * points / total if total else 0.0
        return flat

    # -- what the host reads of a pack ------------------------------------------------

    def check_plan(self, hidden_count: int) -> list[dict[str, str]]:
        """Every layer's plan in the bundle's order, namespaced; ``hidden_count`` cases each."""
        return [namespaced(identity, l.key) for l in self.layers for identity in l.pack.check_plan(hidden_count)]

    def speed_case_name(self, size: str) -> str:
        return "; ".join(f"{l.key}: {l.pack.speed_case_name(size)}" for l in self.layers if l.races)

    def arena_sizes(self) -> tuple[int, int]:
        """Room for the largest layer's requests and responses: one worker pair runs them all."""
        sizes = [l.pack.arena_sizes() for l in self.layers]
        return max(s[0] for s in sizes), max(s[1] for s in sizes)

    def worker_address_space_bytes(self, limits: dict) -> int:
        return layer_module.worker_address_space_bytes(self.arena_sizes(), limits)
