"""The CS231n ReLU pack: ``relu_forward(x) -> (out, cache)`` and ``relu_backward(dout,
cache) -> dx``, x of any shape, out = max(0, x), cache = x.

Facts relied on (CS231n assignment 2, ``cs231n/layers.py`` and FullyConnectedNets.ipynb;
the same API in every course year from 2016 to 2026, read from public copies of the
course files):

- The starter code ends the forward with ``cache = x`` and starts the backward with
  ``dx, x = None, cache``.
- The notebook's forward check: x = linspace(-0.5, 0.5, num=12).reshape(3, 4); its printed
  correct_out (8 decimals) is ``NOTEBOOK_CORRECT_OUT``, "the error should be on the order
  of e-8" (5e-08 exactly: the rounding of 0.0454545...).
- The notebook's backward check: np.random.seed(231), x randn(10, 10), dout randn(10, 10),
  against a numerical gradient ("around 3e-12").
- No notebook cell times this layer; the timed size is the ConvolutionalNetworks
  notebook's ThreeLayerConvNet after its convolution (32 filters on 32x32 images, the
  Solver's batch of 50). The rubric does not time it unless a configuration asks.

At x == 0 exactly: the ReLU has no derivative there and every dx between 0 and dout is a
subgradient, so ``x > 0`` (dx = 0) and ``x >= 0`` (dx = dout) are both right, and both
are accepted (the forward is 0 either way). Students write both; the notebook's random
inputs never hit 0, but a network's can (the course initialises biases to 0, so an affine
layer fed an example whose activations all died gives exact zeros), so two hidden cases
hold exact zeros and check that either convention passes.

The real bug this pack is mostly about: ``dout[x <= 0] = 0; dx = dout`` gives the right
dx but writes into the upstream gradient, which the layer above may still be using (13
of 66 public students' relu_backward that load). It fails the inputs check, as does a
forward that writes into x (``x[x < 0] = 0; out = x``): INPUT_NAMES below ends the
inputs check's message with how each happens and how to avoid it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layer

NAME = "cs231n-relu"
TITLE = "CS231n ReLU layer"
SUBJECT = "ReLU layer"
STUDENT_FUNCTIONS = {"forward": "relu_forward", "backward": "relu_backward"}
REFERENCE_FUNCTIONS = {"forward": "relu_forward", "backward": "relu_backward"}
PARAM_NAME = None  # x is the only argument: no plain-value parameter
REFERENCE_ENTRY = "reference/relu.py"  # the yardstick students are timed against
CALLS = (
    layer.Call("forward", results=("out", "@cache")),  # '@': kept inside the worker, never sent
    layer.Call("backward", results=("dx",), needs=("cache",)),
)
# The inputs check's message ends "never write into " + this: it names how the two real
# in-place writes happen, so a student who wrote `dout[x <= 0] = 0` reads that dout was
# changed in place and what to write instead.
INPUT_NAMES = ("x or dout: `dout[x <= 0] = 0` in relu_backward changes the upstream gradient dout in place, "
               "and `x[x < 0] = 0` in relu_forward changes x in place; build a new array instead "
               "(out = np.maximum(0, x), dx = dout * (x > 0))")
STAND_INS = {"cache": "x"}
# The graded functions as every student starts them (the CS231n template's skeleton): its
# fingerprints never count in `convgrade similarity`.
STARTER_TEMPLATE = '''
def relu_forward(x):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx
'''
KIT = None  # no student self-check kit yet
SANDBOX_PACKAGES: dict[str, str] = {}

DEFAULT_RUBRIC = {
    "points": {
        "forward_notebook": 10,
        "forward_hidden": 30,
        "backward_notebook": 10,
        "backward_hidden": 30,
        # Worth more than elsewhere: writing into dout is this layer's most common real bug.
        "inputs_unchanged": 20,
    },
    # ReLU only selects: right code is exact.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

NOTEBOOK_CORRECT_OUT = np.array([[0., 0., 0., 0.],
                                 [0., 0., 0.04545455, 0.13636364],
                                 [0.22727273, 0.31818182, 0.40909091, 0.5]])


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    dout: np.ndarray
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "backward")

    @property
    def where(self) -> str:
        zeros = int(np.count_nonzero(self.x == 0))
        return f"for x {self.x.shape}" + (f" ({zeros} of its elements exactly 0)" if zeros else "")

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            return [{"array": "x"}], {"x": self.x}
        if "cache" in kept:
            return [{"array": "dout"}, {"kept": kept["cache"]}], {"dout": self.dout}
        return [{"array": "dout"}, {"array": "x"}], {"dout": self.dout, "x": self.x}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    if case_id != "notebook-forward":
        return ""
    diff = float(np.max(np.abs(out - NOTEBOOK_CORRECT_OUT) /
                        np.maximum(1e-8, np.abs(out) + np.abs(NOTEBOOK_CORRECT_OUT))))
    return f"; against the notebook's printed correct_out, difference: {diff:.2e} (about 5e-08 expected)"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """Nothing to add: the known ReLU bugs give right answers and are caught by the
    inputs check (writing into dout or x), whose message names them."""
    return ""


def notebook_cases() -> list[Case]:
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    dout_forward = np.linspace(-1, 1, num=12).reshape(3, 4)
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls
    bx = rng.randn(10, 10)
    bdout = rng.randn(*bx.shape)
    return [
        Case("notebook-forward", "notebook", x, dout_forward, graded=("forward",), calls=("forward",)),
        Case("notebook-backward", "notebook", bx, bdout, graded=("backward",)),
    ]


# (shape of x, exact zeros?): ReLU takes any shape, and loops written for 2-D x (for i in
# range(x.shape[0]): for j in range(x.shape[1])) fail on 1-, 3- and 4-D x (4-D: after a
# convolution); N = 1 catches np.squeeze. The cases with exact zeros (values on a coarse
# grid) are where `x > 0` and `x >= 0` differ: both must pass.
HIDDEN_SHAPES = [
    ((4, 5), False),
    ((2, 3, 4, 4), False),
    ((7,), False),
    ((3, 4, 5), False),
    ((5, 6), True),
    ((2, 3, 3, 3), True),
    ((1, 8), False),
    ((6, 2, 5), False),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        shape, zeros = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        while True:
            x = rng.standard_normal(shape)
            if not zeros:
                break
            x = np.round(x, 1)  # on a coarse grid: some elements are exactly 0
            x[x == 0] = 0.0  # -0.0 from rounding a small negative: the same number, printed plainer
            if np.count_nonzero(x == 0) >= 2:
                break
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, rng.standard_normal(shape)))
    return cases


# The timed sizes: the ConvolutionalNetworks notebook's ThreeLayerConvNet ReLU after its
# convolution (batch 50, 32 filters, 32x32); no notebook cell times this layer.
SPEED_SIZES = {
    "speed-cell": {"x": (50, 32, 32, 32)},
    "small": {"x": (4, 8, 8, 8)},
}


def speed_case_name(size: str) -> str:
    suffix = " (the ThreeLayerConvNet's ReLU on a Solver batch)" if size == "speed-cell" else \
        " (a small development size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh random inputs at the timed size, one set per timed trial (uniform on [-1, 1):
    half negative as after a layer with biases, no exact zeros, drawn faster than normals)."""
    shape = SPEED_SIZES[size]["x"]
    return Case(f"speed-{trial}", "speed", rng.uniform(-1.0, 1.0, shape), rng.uniform(-1.0, 1.0, shape))


def _elements(size: str) -> int:
    return int(np.prod(SPEED_SIZES[size]["x"]))


def timed_flops(function: str, size: str) -> int:
    """Operations of one timed call at ``size``, counting a comparison as a floating-point
    operation: one per element, forward (x against 0) and backward (the mask) alike."""
    return _elements(size)


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) of the dense product the "percent of peak" is measured against: one row per
    element, K = F = 1, a product that reads x once. ReLU does no multiplications, so the
    percentage says how close the code comes to streaming x at BLAS speed."""
    return _elements(size), 1, 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: room for the speed cell's x and dout, and twice its output."""
    nbytes = 8 * _elements("speed-cell")
    return 2 * nbytes + 4096, 2 * nbytes + 4096


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray | tuple[np.ndarray, ...]]:
    """The right answers; at exact zeros dx lists both accepted ones (`x > 0`, then `x >= 0`)."""
    from reference import relu

    out, cache = relu.relu_forward(case.x)
    dx = relu.relu_backward(case.dout, cache)
    at_zero = relu.relu_backward_at_zero(case.dout, cache)
    return {"out": out, "dx": (dx, at_zero) if not np.array_equal(dx, at_zero) else dx}
