"""The CS231n dropout pack: ``dropout_forward(x, dropout_param) -> (out, cache)`` and
``dropout_backward(dout, cache) -> dx``, dropout_param {'mode': 'train' | 'test', 'p',
'seed' (optional)}, x of any shape.

The mask is random, so no reference can predict a student's output: every case is
graded by property (``property_checks``, see grader/harness/properties.py), never
against an expected array:

- same seed: two train calls with the same dropout_param['seed'] give the same out;
- zero or scaled: in train mode every element of out is 0 or x / keep (inverted dropout);
- kept fraction: the fraction of non-zero elements is within ``FRACTION_SIGMAS``
  binomial standard deviations of the keep probability;
- test returns x: test mode gives x back unchanged;
- backward mask: dropout_backward, given that forward's cache, returns
  dout * mask / keep, with mask where that forward's out is non-zero (x holds no zeros).

Facts relied on (sources: the course's assignment 2 Dropout.ipynb and layers.py,
read in public copies of 2016-2024; the project's survey of 74 students' layers.py
files in the shared CS231n notes):

- Since 2018 the template's docstring says p is the probability of KEEPING each unit;
  the 2016-2017 docstrings say "We drop each neuron output with probability p". The
  meaning is the setting ``P_MEANING`` below ("keep" by default; "drop" for a course
  still on the old text). There is no per-pack section in the grading configuration
  yet, so it is a module constant.
- The template starts with ``if 'seed' in dropout_param: np.random.seed(...)``, ends
  with ``cache = (dropout_param, mask)``, and its backward returns dout in test mode.
- Notebook forward cell: np.random.seed(231); x = randn(500, 500) + 10; for p in
  (0.25, 0.4, 0.7) a train and a test call without a seed; it prints the means and
  the fraction of zeros. Backward cell: np.random.seed(231); x = randn(10, 10) + 10;
  dout = randn(10, 10); {'mode': 'train', 'p': 0.2, 'seed': 123}; dx against a
  numerical gradient through the seeded forward. The grader adds the seed 123 to the
  forward cell's train calls too: the same-seed property needs one.
- Bugs measured in public code: kept values left unscaled with test mode scaled
  instead (8 files), p used with the other meaning than the file's docstring (7),
  a mask drawn with randn instead of rand (4), and dropout that only accepts 2-D
  input (7): a hidden case is 4-D and another 3-D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import dropout_properties as props  # each property's judgement (it reads this module's settings)
from . import layer

NAME = "cs231n-dropout"
TITLE = "CS231n dropout"
SUBJECT = "dropout"
STUDENT_FUNCTIONS = {"forward": "dropout_forward", "backward": "dropout_backward"}
REFERENCE_FUNCTIONS = {"forward": "dropout_forward", "backward": "dropout_backward"}
PARAM_NAME = "dropout_param"  # the plain-value argument; its changes are only reported by the student's process
REFERENCE_ENTRY = "reference/dropout.py"  # the yardstick when a course turns timing on
CALLS = (
    layer.Call("forward", results=("out", "@cache")),  # '@': kept inside the worker, never sent
    layer.Call("backward", results=("dx",), needs=("cache",)),
)
INPUT_NAMES = "x, dout or dropout_param"
STAND_INS = {"cache": "(dropout_param, mask) with a mask drawn by the grader"}
STARTER_TEMPLATE = '''
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None

    if mode == "train":
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    elif mode == "test":
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param["mode"]

    dx = None
    if mode == "train":
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    elif mode == "test":
        dx = dout
    return dx
'''
KIT = None  # no student self-check kit yet
SANDBOX_PACKAGES: dict[str, str] = {}
# The template's forward with nothing filled in crashes on its own last line,
# ``out.astype(...)`` on ``out = None``: inside a bundle that is the starter stub
# (harness/layer_checks.py), said as such instead of as a crash on every check.
STUB_ERRORS = {"forward": (("AttributeError", "'NoneType' object has no attribute 'astype'"),)}

# What p means in dropout_param: "keep" (the course since 2018) or "drop" (2016-2017). A
# course chooses in its configuration (pack_settings {"p_meaning": "drop"}; in cs231n-a2
# {"dropout.p_meaning": "drop"}); the harness sets P_MEANING from it (assignments.configure).
SETTINGS = {"p_meaning": ("keep", "drop")}
P_MEANING = SETTINGS["p_meaning"][0]

# The kept fraction of n units is Binomial(n, keep) / n, standard deviation
# sqrt(keep * (1 - keep) / n). Six of them: a right solution fails with probability
# about 2e-9 per check, while the other meaning of p (1 - keep), or a randn mask
# (Phi(keep)), lies tens of deviations away on the large cases (0.4 vs 0.6 on 250,000
# units is 200 deviations).
FRACTION_SIGMAS = 6.0
# Test mode and the backward compute at most one product and one division per
# element: a right answer is exact to rounding.
EXACT = 1e-9
NOTEBOOK_KEEPS = (0.25, 0.4, 0.7)
NOTEBOOK_SEED = 123  # the backward cell's seed, used for every seeded call of the notebook cases

DEFAULT_RUBRIC = {
    "points": {
        "forward_notebook": 20,
        "forward_hidden": 35,
        "backward_notebook": 10,
        "backward_hidden": 25,
        "inputs_unchanged": 10,
    },
    "tolerance": 1e-9,  # unused by the property checks (they use EXACT); kept for the config's shape
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

# The properties, in check order: (call, label, words for the check's name).
TRAIN_PROPERTIES = (
    ("forward", "same-seed", "gives the same out for the same seed"),
    ("forward", "zero-or-scaled", "keeps units as x / keep and zeroes the rest"),
    ("forward", "kept-fraction", "keeps the keep probability's share of units"),
    ("backward", "mask", "routes dout through the forward's mask"),
)
TEST_PROPERTIES = (("forward", "test-returns-x", "returns x in test mode"),)
_WORDS = {label: words for _, label, words in TRAIN_PROPERTIES + TEST_PROPERTIES}


def keep_probability(p: float) -> float:
    """The probability of keeping a unit, under this pack's meaning of p."""
    return p if P_MEANING == "keep" else 1.0 - p


OTHER_MEANING = {"keep": "drop", "drop": "keep"}
MEANING_YEARS = {"keep": "since 2018", "drop": "in 2016-2017"}


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    dout: np.ndarray
    dropout_param: dict
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "forward", "backward")  # a seeded forward twice, then backward

    @property
    def keep(self) -> float:
        return keep_probability(self.dropout_param["p"])

    @property
    def where(self) -> str:
        d = self.dropout_param
        return f"in {d['mode']} mode at p = {d['p']:g} (x {self.x.shape})"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            return [{"array": "x"}, {"value": self.dropout_param}], {"x": self.x}
        if "cache" in kept:
            return [{"array": "dout"}, {"kept": kept["cache"]}], {"dout": self.dout}
        # The template's cache, (dropout_param, mask), with a scaled mask drawn here: the timing
        # phase skips a forward that failed a check, and its backward is still timed on this.
        stand_in = {"tuple": [{"value": self.dropout_param}, {"array": "mask"}]}
        return [{"array": "dout"}, stand_in], {"dout": self.dout, "mask": self.stand_in_mask()}

    def stand_in_mask(self) -> np.ndarray:
        """The template's mask, (rand < keep) / keep, drawn from the case's seed."""
        rng = np.random.RandomState(self.dropout_param.get("seed", 0))
        return (rng.rand(*self.x.shape) < self.keep) / self.keep


def case_in_train_mode(case_id: str, group: str, x: np.ndarray, dout: np.ndarray, p: float, seed: int) -> Case:
    return Case(case_id, group, x, dout, {"mode": "train", "p": p, "seed": seed})


def case_in_test_mode(case_id: str, group: str, x: np.ndarray, p: float) -> Case:
    return Case(case_id, group, x, np.zeros_like(x), {"mode": "test", "p": p}, graded=("forward",),
                calls=("forward",))


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)


def check_identity(case_id: str, case_group: str, call: str, label: str) -> dict[str, str]:
    """The layer's identity of a check (layer.check_identity: id "forward/hidden-2/same-seed",
    call, function, layer, group), named by the property's words rather than a result's."""
    identity = layer.check_identity(NAME, STUDENT_FUNCTIONS, case_id, case_group, call, label)
    identity["name"] = f"{STUDENT_FUNCTIONS[call]} {_WORDS[label]}, {case_id.replace('-', ' ')} case"
    return identity


def _properties(mode: str):
    return TRAIN_PROPERTIES if mode == "train" else TEST_PROPERTIES


def check_plan(hidden_count: int) -> list[dict[str, str]]:
    """Every check, in the order the harness reports them: the notebook's cases, then the
    hidden ones (each mode fixed by its index, so the plan needs no seed), then the
    inputs check."""
    cases = [(case_id, "notebook", mode) for case_id, mode in _notebook_ids()]
    cases += [(f"hidden-{i + 1}", "hidden", HIDDEN_SHAPES[i % len(HIDDEN_SHAPES)][2]) for i in range(hidden_count)]
    plan = [check_identity(case_id, group, call, label)
            for case_id, group, mode in cases for call, label, _ in _properties(mode)]
    return plan + [INPUTS_CHECK]


def _notebook_ids() -> list[tuple[str, str]]:
    ids = []
    for index in range(len(NOTEBOOK_KEEPS)):
        ids += [(f"notebook-train-{index + 1}", "train"), (f"notebook-test-{index + 1}", "test")]
    return ids + [("notebook-backward", "train")]


def published_note(case_id: str, out: np.ndarray) -> str:
    return ""  # the notebook publishes no dropout output to compare with (it is random)


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    return ""  # the property checks name each bug themselves (dropout_properties)


def property_checks(case: Case, outputs) -> list[tuple[str, str, bool, str]]:
    """(call, label, passed, message) for each property of ``case``, in plan order."""
    if case.dropout_param["mode"] == "test":
        return [("forward", "test-returns-x", *props.test_returns_x(case, outputs[0]))]
    first, second, backward = outputs
    return [
        ("forward", "same-seed", *props.same_seed(case, first, second)),
        ("forward", "zero-or-scaled", *props.zero_or_scaled(case, first)),
        ("forward", "kept-fraction", *props.kept_fraction(case, first)),
        ("backward", "mask", *props.backward_mask(case, second, backward)),
    ]


def notebook_cases() -> list[Case]:
    rng = np.random.RandomState(231)  # the forward cell: np.random.seed(231), then randn
    x = rng.randn(500, 500) + 10
    dout = np.random.RandomState(232).randn(500, 500)  # the cell has no backward; any dout serves
    cases = []
    for index, p in enumerate(NOTEBOOK_KEEPS):
        p = _as_setting(p)
        cases.append(case_in_train_mode(f"notebook-train-{index + 1}", "notebook", x, dout, p, NOTEBOOK_SEED))
        cases.append(case_in_test_mode(f"notebook-test-{index + 1}", "notebook", x, p))
    rng = np.random.RandomState(231)  # the backward cell
    bx = rng.randn(10, 10) + 10
    bdout = rng.randn(10, 10)
    cases.append(case_in_train_mode("notebook-backward", "notebook", bx, bdout, _as_setting(0.2), NOTEBOOK_SEED))
    return cases


def _as_setting(keep: float) -> float:
    """The p that means keep probability ``keep`` under this pack's setting."""
    return keep if P_MEANING == "keep" else round(1.0 - keep, 12)


# (shape, keep probability, mode): each aims at a real bug. Keeps far from 0.5 tell the
# two meanings of p apart (and 1/p from 1/(1-p)); 4-D and 3-D inputs catch a mask drawn
# with x.shape[0], x.shape[1] (2-D only); a test case outside the notebook checks test
# mode at another p (the non-inverted bug scales there).
HIDDEN_SHAPES = [
    ((64, 100), 0.3, "train"),
    ((8, 8, 16, 16), 0.8, "train"),
    ((8, 8, 16, 16), 0.6, "test"),
    ((4, 50, 40), 0.15, "train"),
    ((128, 64), 0.6, "train"),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        shape, keep, mode = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        # Away from zero, so a kept unit is never 0 and out != 0 is exactly the mask; signs
        # mixed, so a sign slip shows.
        magnitude = rng.uniform(0.5, 3.0, size=shape)
        x = magnitude * rng.choice([-1.0, 1.0], size=shape)
        case_id = f"hidden-{index + 1}"
        if mode == "test":
            cases.append(case_in_test_mode(case_id, "hidden", x, _as_setting(keep)))
        else:
            seed_value = int(rng.integers(0, 2**31 - 1))
            dout = rng.standard_normal(shape)
            cases.append(case_in_train_mode(case_id, "hidden", x, dout, _as_setting(keep), seed_value))
    return cases


# Timed sizes, used only when a course turns timing on (the notebook times no dropout):
# the forward cell's input, and a small one for quick tests.
SPEED_SIZES = {
    "speed-cell": {"x": (500, 500), "p": 0.4},
    "small": {"x": (64, 100), "p": 0.4},
}


def speed_case_name(size: str) -> str:
    shapes = SPEED_SIZES[size]
    suffix = " (the notebook's dropout cell)" if size == "speed-cell" else " (a small development size)"
    return f"x {shapes['x']}, p {shapes['p']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    shapes = SPEED_SIZES[size]
    x = rng.standard_normal(shapes["x"]) + 10
    case = case_in_train_mode(f"speed-{trial}", "speed", x, rng.standard_normal(shapes["x"]), _as_setting(shapes["p"]),
                              int(rng.integers(0, 2**31 - 1)))
    case.calls = ("forward", "backward")  # one of each is timed: the seed's repeat is a check, not a cost
    return case


def timed_flops(function: str, size: str) -> int:
    """Per element: the forward draws a number, compares, divides and multiplies (4); the
    backward multiplies once (1)."""
    elements = int(np.prod(SPEED_SIZES[size]["x"]))
    return elements * (4 if function == "forward" else 1)


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F): one row per element, K = F = 1, a product that streams x once: dropout
    is elementwise, so the percentage says how close it comes to streaming memory."""
    return int(np.prod(SPEED_SIZES[size]["x"])), 1, 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: a train case keeps both forwards' x in the request region
    (their caches may view it), then sends dout and, for a backward whose forward gave no
    cache, the stand-in's mask: four arrays of the largest case, the notebook's 500 x 500;
    the response holds one output."""
    largest = 8 * 500 * 500
    return 4 * largest + 4096, 2 * largest + 4096


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    """The reference's outputs for the case's seed: never compared (a student's mask is as
    right), but computing them sets each call's time limit, as for every pack."""
    from reference import dropout

    out, cache = dropout.dropout_forward(case.x, case.dropout_param)
    return {"out": out, "dx": dropout.dropout_backward(case.dout, cache)}
