"""The CS231n affine (fully connected) layer pack: ``affine_forward(x, w, b) -> (out,
cache)`` and ``affine_backward(dout, cache) -> (dx, dw, db)``.

Facts relied on (CS231n assignment 2, ``cs231n/layers.py`` and FullyConnectedNets.ipynb;
the API is the same in every course year from 2016 to 2026, read from public copies of
the course files):

- x has shape (N, d1, ..., dk) and each example is flattened row by row to D = d1 * ...
  * dk; w is (D, M), b is (M,), out is (N, M). The starter code ends the forward with
  ``cache = (x, w, b)`` after the student's block, so a student who reassigns
  ``x = x.reshape(N, -1)`` inside it caches the flattened x.
- affine_backward returns dx shaped like x (N, d1, ..., dk), dw (D, M) and db (M,).
- The notebook's forward check: num_inputs = 2, input_shape = (4, 5, 6), output_dim = 3,
  x = linspace(-0.1, 0.5), w = linspace(-0.2, 0.3) reshaped (120, 3), b = linspace(-0.3,
  0.1, 3); its printed correct_out (8 decimals) is ``NOTEBOOK_CORRECT_OUT``, "the error
  should be around e-9 or less".
- The notebook's backward check: np.random.seed(231), then x randn(10, 2, 3), w randn(6,
  5), b randn(5), dout randn(10, 5), against numerical gradients ("around e-10 or less").
- No notebook cell times this layer; the timed size is where the layer runs in the
  notebook's TwoLayerNet training (CIFAR-10 images, the Solver's batch of 100, 100 hidden
  units). The rubric does not time it unless a configuration asks.

The real bugs the hidden cases aim at (a screen of public students' layers.py files):
db shaped (1, M) from ``np.sum(dout, axis=0, keepdims=True)``; dx returned flattened as
(N, D) instead of x's shape (in one public file because the forward's flattened x went
into the template's cache); x used without flattening, which works only when x is 2-D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layer

NAME = "cs231n-affine"
TITLE = "CS231n affine layer"
SUBJECT = "affine layer"
STUDENT_FUNCTIONS = {"forward": "affine_forward", "backward": "affine_backward"}
REFERENCE_FUNCTIONS = {"forward": "affine_forward", "backward": "affine_backward"}
PARAM_NAME = None  # every argument is an array: no plain-value parameter
REFERENCE_ENTRY = "reference/affine.py"  # the yardstick students are timed against
CALLS = (
    layer.Call("forward", results=("out", "@cache")),  # '@': kept inside the worker, never sent
    layer.Call("backward", results=("dx", "dw", "db"), needs=("cache",)),
)
INPUT_NAMES = "x, w, b or dout"
STAND_INS = {"cache": "(x, w, b)"}
# The graded functions as every student starts them (the CS231n template's skeleton): its
# fingerprints never count in `convgrade similarity`.
STARTER_TEMPLATE = '''
def affine_forward(x, w, b):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db
'''
KIT = None  # no student self-check kit yet
SANDBOX_PACKAGES: dict[str, str] = {}

DEFAULT_RUBRIC = {
    "points": {
        "forward_notebook": 10,
        "forward_hidden": 35,
        "backward_notebook": 10,
        "backward_hidden": 35,
        "inputs_unchanged": 10,
    },
    # Loops and BLAS sum in different orders: about 1e-15 apart on these sizes, far below this.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

NOTEBOOK_CORRECT_OUT = np.array([[1.49834967, 1.70660132, 1.91485297],
                                 [3.25553199, 3.5141327, 3.77273342]])


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "backward")

    @property
    def where(self) -> str:
        # D is spelled out: a forward that never flattens x fails with numpy's "shapes not
        # aligned", and the (N, D) here is what tells the student to reshape.
        n, d = self.x.shape[0], int(np.prod(self.x.shape[1:]))
        flat = "" if self.x.ndim == 2 else f", which flattens to ({n}, {d})"
        return f"for x {self.x.shape}{flat}, w {self.w.shape}, b {self.b.shape}"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            return [{"array": "x"}, {"array": "w"}, {"array": "b"}], {"x": self.x, "w": self.w, "b": self.b}
        if "cache" in kept:
            return [{"array": "dout"}, {"kept": kept["cache"]}], {"dout": self.dout}
        template = {"tuple": [{"array": "x"}, {"array": "w"}, {"array": "b"}]}
        return [{"array": "dout"}, template], {"dout": self.dout, "x": self.x, "w": self.w, "b": self.b}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    if case_id != "notebook-forward":
        return ""
    diff = float(np.max(np.abs(out - NOTEBOOK_CORRECT_OUT) /
                        np.maximum(1e-8, np.abs(out) + np.abs(NOTEBOOK_CORRECT_OUT))))
    return f"; against the notebook's printed correct_out, difference: {diff:.2e} (about 1e-09 expected)"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one: the right
    numbers in the wrong shape (db kept as a row, dx left flattened)."""
    if got is None or label not in ("dx", "db"):
        return ""
    from reference import affine

    dx, _, db = affine.affine_backward(case.dout, (case.x, case.w, case.b))
    n, m = case.dout.shape
    if label == "db" and got.shape == (1, m) and np.allclose(got.reshape(m), db, rtol=1e-9, atol=1e-12):
        return (f". db has the right sums but shape (1, {m}): np.sum(dout, axis=0, keepdims=True) keeps the "
                f"summed axis; b has shape ({m},), so sum without keepdims")
    flat = (n, dx.size // max(n, 1))
    if label == "dx" and case.x.ndim > 2 and got.shape == flat and np.allclose(got, dx.reshape(flat), rtol=1e-9,
                                                                             atol=1e-12):
        return (f". dx has the right values but flattened to {flat}: reshape it to x's shape {case.x.shape}. If "
                "your forward reassigns x = x.reshape(...), the template's cache = (x, w, b) keeps the flattened x, "
                "so x.shape in the backward is the flat one too: cache the original x")
    return ""


def notebook_cases() -> list[Case]:
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    d = int(np.prod(input_shape))
    x = np.linspace(-0.1, 0.5, num=num_inputs * d).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=output_dim * d).reshape(d, output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    # Never used (the case runs the forward alone); uneven, so no gradient of it sums to 0.
    dout_forward = np.linspace(-0.7, 1.1, num=num_inputs * output_dim).reshape(num_inputs, output_dim)
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls, in its order
    bx = rng.randn(10, 2, 3)
    bw = rng.randn(6, 5)
    bb = rng.randn(5)
    bdout = rng.randn(10, 5)
    return [
        Case("notebook-forward", "notebook", x, w, b, dout_forward, graded=("forward",), calls=("forward",)),
        Case("notebook-backward", "notebook", bx, bw, bb, bdout, graded=("backward",)),
    ]


# (N, example shape (d1, ..., dk), M): each shape catches a real bug. 2-D x is the one case
# where a forward that never flattens x works (so that bug shows as "only 2-D x"); 3-, 4- and
# 5-D x catch it and a dx left flattened, and an `N, C, H, W = x.shape` that assumes images;
# N = 1 and a unit dimension catch np.squeeze, which drops them; M = 1 makes a db kept as
# (1, M) look like (1, 1); N == M makes np.sum(dout, axis=1) (the wrong axis) right-shaped,
# so only its values can fail.
HIDDEN_SHAPES = [
    (3, (7,), 4),
    (4, (2, 3, 4), 6),
    (2, (5, 6), 3),
    (1, (3, 1, 2), 4),
    (6, (2, 2), 1),
    (2, (3, 2, 2, 2), 3),
    (5, (8,), 5),
    (3, (3, 4, 4), 10),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        n, example, m = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        d = int(np.prod(example))
        x = rng.standard_normal((n, *example))
        w = rng.standard_normal((d, m))
        b = rng.standard_normal(m)
        dout = rng.standard_normal((n, m))
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, w, b, dout))
    return cases


# The timed sizes: the notebook's TwoLayerNet first layer on a Solver batch (CIFAR-10 images,
# 100 hidden units, batch_size 100); no notebook cell times this layer.
SPEED_SIZES = {
    "speed-cell": {"x": (100, 3, 32, 32), "M": 100},
    "small": {"x": (4, 3, 8, 8), "M": 10},
}


def speed_case_name(size: str) -> str:
    shapes = SPEED_SIZES[size]
    d = int(np.prod(shapes["x"][1:]))
    suffix = " (the TwoLayerNet's first layer on a Solver batch)" if size == "speed-cell" else \
        " (a small development size)"
    return f"x {shapes['x']}, w ({d}, {shapes['M']}){suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh random inputs at the timed size, one set per timed trial (uniform on [-1, 1):
    dense and finite, and drawn faster than normal values)."""
    shapes = SPEED_SIZES[size]
    n, d, m = shapes["x"][0], int(np.prod(shapes["x"][1:])), shapes["M"]
    return Case(f"speed-{trial}", "speed", rng.uniform(-1.0, 1.0, shapes["x"]), rng.uniform(-1.0, 1.0, (d, m)),
                rng.uniform(-1.0, 1.0, m), rng.uniform(-1.0, 1.0, (n, m)))


def _sizes(size: str) -> tuple[int, int, int]:
    shapes = SPEED_SIZES[size]
    return shapes["x"][0], int(np.prod(shapes["x"][1:])), shapes["M"]


def timed_flops(function: str, size: str) -> int:
    """Floating-point operations of one timed call at ``size``: the forward is one (N, D) x
    (D, M) product, 2*N*D*M, plus N*M bias additions; the backward is two products of the
    same size (dx and dw), 4*N*D*M, plus N*M additions for db."""
    n, d, m = _sizes(size)
    return (2 if function == "forward" else 4) * n * d * m + n * m


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) of the dense product the "percent of peak" is measured against: the
    forward's own (N, D) x (D, M) product, the bound a correct layer can reach."""
    return _sizes(size)


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: room for the speed cell's inputs and twice its outputs,
    so an honest answer always fits and a student's huge array is refused, not copied."""
    n, d, m = _sizes("speed-cell")
    request = 8 * (n * d + d * m + m + n * m) + 4096
    response = 2 * 8 * max(n * m, n * d + d * m + m) + 4096
    return request, response


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    from reference import affine

    out, cache = affine.affine_forward(case.x, case.w, case.b)
    dx, dw, db = affine.affine_backward(case.dout, cache)
    return {"out": out, "dx": dx, "dw": dw, "db": db}
