"""The CS231n max-pooling pack: ``max_pool_forward_naive(x, pool_param) -> (out, cache)``
and ``max_pool_backward_naive(dout, cache) -> dx``, pool_param {'pool_height',
'pool_width', 'stride'}, no padding, H' = 1 + (H - pool_height) // stride.

Ties are real inputs (after a ReLU many windows hold several equal maxima, often
zeros). Routing a window's gradient to its first maximum and splitting it equally
among the tied maxima are both valid subgradients, so either is accepted; giving
every tied element the whole gradient is a bug, as is any dx whose window sums
differ from dout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layer

NAME = "cs231n-maxpool"
TITLE = "CS231n max pooling"
SUBJECT = "max pooling"
STUDENT_FUNCTIONS = {"forward": "max_pool_forward_naive", "backward": "max_pool_backward_naive"}
REFERENCE_FUNCTIONS = {"forward": "max_pool_forward", "backward": "max_pool_backward"}
PARAM_NAME = "pool_param"  # the plain-value argument; its changes are only reported by the student's process
REFERENCE_ENTRY = "reference/maxpool.py"  # the yardstick students are timed against
CALLS = (
    layer.Call("forward", results=("out", "@cache")),  # '@': kept inside the worker, never sent
    layer.Call("backward", results=("dx",), needs=("cache",)),
)
INPUT_NAMES = "x, dout or pool_param"
STAND_INS = {"cache": "(x, pool_param)"}
# The graded functions as every student starts them (the CS231n template's skeleton): its
# fingerprints never count in `convgrade similarity`.
STARTER_TEMPLATE = '''
def max_pool_forward_naive(x, pool_param):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
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
        "forward_hidden": 35,
        "backward_notebook": 10,
        "backward_hidden": 35,
        "inputs_unchanged": 10,
    },
    # Max pooling only selects and adds: right code is exact to the last bit or two.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

# The notebook's forward check: its published output's first and last planes, 8 decimals.
NOTEBOOK_FIRST_PLANE = np.array([[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]])
NOTEBOOK_LAST_PLANE = np.array([[0.32631579, 0.34105263], [0.38526316, 0.4]])


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    dout: np.ndarray
    pool_param: dict
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "backward")

    @property
    def where(self) -> str:
        p = self.pool_param
        return f"at pool {p['pool_height']}x{p['pool_width']}, stride {p['stride']} (x {self.x.shape})"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            return [{"array": "x"}, {"value": self.pool_param}], {"x": self.x}
        if "cache" in kept:
            return [{"array": "dout"}, {"kept": kept["cache"]}], {"dout": self.dout}
        template = {"tuple": [{"array": "x"}, {"value": self.pool_param}]}
        return [{"array": "dout"}, template], {"dout": self.dout, "x": self.x}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    if case_id != "notebook-forward":
        return ""
    planes = np.stack([out[0, 0], out[-1, -1]])
    published = np.stack([NOTEBOOK_FIRST_PLANE, NOTEBOOK_LAST_PLANE])
    diff = float(np.max(np.abs(planes - published) / np.maximum(1e-8, np.abs(planes) + np.abs(published))))
    return f"; against the notebook's published planes, difference: {diff:.2e} (about 1e-08 expected)"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one."""
    if label != "dx" or got is None or got.shape != case.x.shape:
        return ""
    from reference import maxpool

    _, cache = maxpool.max_pool_forward(case.x, case.pool_param)
    if layer.is_exactly(got, maxpool.max_pool_backward_every_tie(case.dout, cache)):
        return (". Every tied maximum of a window got the window's whole gradient, so the window passes on more "
                "than dout: route it to one maximum (np.argmax's first) or split it equally among the ties")
    if case.pool_param["stride"] < max(case.pool_param["pool_height"], case.pool_param["pool_width"]) and \
            layer.is_exactly(got, maxpool.max_pool_backward_window_assign(case.dout, cache)):
        return (". The windows overlap here (stride smaller than the pool), and each window's gradient was "
                "assigned into dx (dx[..., window] = ...), so a later window wiped what an earlier one routed: "
                "add it (+=) instead")
    return ""


def output_shape(x_shape, pool_param) -> tuple[int, int, int, int]:
    n, c, h, w = x_shape
    stride = pool_param["stride"]
    return n, c, 1 + (h - pool_param["pool_height"]) // stride, 1 + (w - pool_param["pool_width"]) // stride


def notebook_cases() -> list[Case]:
    x = np.linspace(-0.3, 0.4, num=96).reshape(2, 3, 4, 4)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dout_forward = np.linspace(-1, 1, num=2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls
    bx = rng.randn(3, 2, 8, 8)
    bdout = rng.randn(3, 2, 4, 4)
    return [
        Case("notebook-forward", "notebook", x, dout_forward, param, graded=("forward",), calls=("forward",)),
        Case("notebook-backward", "notebook", bx, bdout, dict(param), graded=("backward",)),
    ]


# (pool_height, pool_width, stride, square input?, N=C=1?, ties?, tiles?): each shape
# catches a real bug: stride != pool size (stride taken as the pool size), non-2x2 and
# non-square pools (hard-coded 2x2, pool_height used for both), non-square inputs (H'
# used for both axes), pools that leave rows and columns over (H // pool instead of
# the formula), N = C = 1, and ReLU-like ties (the gradient given to every tied maximum).
HIDDEN_SHAPES = [
    (2, 2, 1, False, False, False, True),
    (3, 3, 2, False, False, False, True),
    (2, 3, 2, False, False, False, False),
    (3, 2, 3, False, False, False, True),
    (2, 2, 2, False, False, True, False),
    (2, 2, 2, True, True, False, True),
    (3, 3, 1, False, False, True, True),
    (4, 2, 2, False, False, False, True),
]


def _tied_window(x: np.ndarray, param: dict) -> bool:
    """Whether some window of x holds its maximum twice."""
    ph, pw, stride = param["pool_height"], param["pool_width"], param["stride"]
    _, _, h_out, w_out = output_shape(x.shape, param)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            top = window.max(axis=(2, 3), keepdims=True)
            if ((window == top).sum(axis=(2, 3)) > 1).any():
                return True
    return False


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        ph, pw, stride, square, ones, ties, tiles = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        n, c = (1, 1) if ones else (int(rng.integers(2, 4)), int(rng.integers(1, 4)))
        h_out = int(rng.integers(2, 5))
        w_out = h_out if square else int(rng.choice([v for v in range(2, 6) if v != h_out]))
        # Rows and columns left over past the last window, unless the pools tile the input.
        # (fewer than stride of them, or H' would grow; the shapes that do not tile have stride > 1).
        extra_h, extra_w = (0, 0) if tiles else (int(rng.integers(1, stride)), int(rng.integers(1, stride)))
        h = (h_out - 1) * stride + ph + extra_h
        w = (w_out - 1) * stride + pw + extra_w
        param = {"pool_height": ph, "pool_width": pw, "stride": stride}
        while True:
            x = rng.standard_normal((n, c, h, w))
            if not ties:
                break
            x = np.maximum(0.0, np.round(x, 1))  # after a ReLU, on a coarse grid: equal maxima
            if _tied_window(x, param):
                break
        dout = rng.standard_normal(output_shape(x.shape, param))
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, dout, param))
    return cases


# The timed input sizes: the notebook's fast-layers cell is what the class competes on.
SPEED_SIZES = {
    "speed-cell": {"x": (100, 3, 32, 32), "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}},
    "small": {"x": (4, 3, 12, 12), "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}},
}


def speed_case_name(size: str) -> str:
    shapes = SPEED_SIZES[size]
    p = shapes["pool_param"]
    suffix = " (the notebook's speed cell)" if size == "speed-cell" else " (a small development size)"
    return f"x {shapes['x']}, pool {p['pool_height']}x{p['pool_width']}, stride {p['stride']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh random inputs at the timed size, one set per timed trial (continuous
    values: no ties, so the two accepted gradients agree)."""
    shapes = SPEED_SIZES[size]
    x = rng.standard_normal(shapes["x"])
    param = dict(shapes["pool_param"])
    return Case(f"speed-{trial}", "speed", x, rng.standard_normal(output_shape(x.shape, param)), param)


def timed_flops(function: str, size: str) -> int:
    """Operations of one timed call at ``size`` (for GFLOP/s), counting comparisons and
    additions as floating-point operations: the forward compares each window's PH*PW
    elements, PH*PW - 1 comparisons per output; the backward finds the maximum again (the
    same comparisons) and adds one gradient per output, PH*PW per output."""
    n, c, h_out, w_out, window = _pool_counts(size)
    return n * c * h_out * w_out * (window - 1 if function == "forward" else window)


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) of the dense product the "percent of peak" is measured against: one row per
    output (M = N*C*H'*W') and one column per window element (K = PH*PW), F = 1, i.e. a
    product that reads the same windows once. Pooling does no multiplications, so the
    percentage says how close the code comes to streaming its windows at BLAS speed, not
    to a bound it could reach."""
    n, c, h_out, w_out, window = _pool_counts(size)
    return n * c * h_out * w_out, window, 1


def _pool_counts(size: str) -> tuple[int, int, int, int, int]:
    shapes = SPEED_SIZES[size]
    p = shapes["pool_param"]
    n, c, h_out, w_out = output_shape(shapes["x"], p)
    return n, c, h_out, w_out, p["pool_height"] * p["pool_width"]


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: room for the speed cell's inputs and twice its outputs."""
    largest = SPEED_SIZES["speed-cell"]
    x_bytes = 8 * int(np.prod(largest["x"]))
    out_bytes = 8 * int(np.prod(output_shape(largest["x"], largest["pool_param"])))
    return x_bytes + out_bytes + 4096, 2 * max(out_bytes, x_bytes) + 4096


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray | tuple[np.ndarray, ...]]:
    """The right answers; a tuple lists every accepted answer (first-maximum routing,
    then the split among ties)."""
    from reference import maxpool

    out, cache = maxpool.max_pool_forward(case.x, case.pool_param)
    first = maxpool.max_pool_backward(case.dout, cache)
    split = maxpool.max_pool_backward_split(case.dout, cache)
    return {"out": out, "dx": (first, split) if not np.array_equal(first, split) else first}
