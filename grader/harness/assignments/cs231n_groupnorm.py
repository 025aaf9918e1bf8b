"""The CS231n spatial group-normalization pack: ``spatial_groupnorm_forward(x, gamma, beta,
G, gn_param) -> (out, cache)`` and ``spatial_groupnorm_backward(dout, cache) -> (dx,
dgamma, dbeta)``.

Facts relied on, with their source:

- API (cs231n/layers.py of assignment 2, 2019-2026): x (N, C, H, W); gamma and beta of
  shape (1, C, 1, 1) (the 2020+ docstrings and every notebook; the 2019 docstring says
  (C,), but its notebook passes (1, C, 1, 1)); G an int dividing C; gn_param a dict whose
  'eps' defaults to 1e-5 (the template's ``eps = gn_param.get("eps", 1e-5)``). Group g of
  a sample is the C/G consecutive channels g*C/G .. (g+1)*C/G - 1 ("splits each entry in
  the data into G contiguous pieces"); its C/G*H*W values share one mean and biased
  variance, x_hat = (x - mean) / np.sqrt(var + eps), then out = gamma * x_hat + beta per
  channel. dgamma and dbeta come back in gamma's shape (1, C, 1, 1). The template starts
  ``out, cache = None, None`` (``STAND_INS``).
- The notebook (ConvolutionalNetworks.ipynb 2019-2021, Normalization in later years,
  "Group normalization: forward", read in public copies): np.random.seed(231); N, C, H, W
  = 2, 6, 4, 5; G = 2; x = 4 * randn(N, C, H, W) + 10, called with gn_param
  {'mode': 'train'}, gamma ones and beta zeros of shape (1, C, 1, 1). It prints, over
  x.reshape(N*G, -1), means [9.72505327, 8.51114185, 8.9147544, 9.43448077] and stds
  [3.67070958, 3.09892597, 4.27043622, 3.97521327] before (the pack's input reproduces
  them to 8 decimals), and after means about 1e-17 and stds near 1. The one published run
  read printed stds [0.99999834, 0.99999782, 0.99999873, 0.99999691], which its student's
  own code made: the course's formula gives [0.99999963, 0.99999948, 0.99999973,
  0.99999968] (1 - eps / (2 var) per group), so the pack compares with that. Backward: np.random.seed(231);
  the same N, C, H, W and G; x = 5 * randn(N, C, H, W) + 12; gamma = randn(1, C, 1, 1);
  beta = randn(1, C, 1, 1); dout = randn(N, C, H, W); gn_param = {}; numeric gradients,
  "errors of magnitudes between 1e-12~1e-07" (a published run: dx 5.1e-08, dgamma 3.9e-12,
  dbeta 1.3e-11).
- Real bugs (issue 26's screen of 74 public layers.py files: 46 define group norm;
  statistics over the wrong axes in 8, eps misplaced in 9): x.reshape(N, C//G, G, ...)
  (every G-th channel in a group instead of consecutive ones), G taken as the group size
  (C//G groups), statistics over the batch, eps added to the std, dgamma/dbeta returned
  (C,) (summed with axis=(0, 2, 3) and no keepdims) or summed over the wrong axes. Each
  has a hidden case and a message below.

Not timed by default (the rubric's speed is off); the speed sizes are declared so a
course can ask for timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import layer

NAME = "cs231n-spatial-groupnorm"
TITLE = "CS231n spatial group normalization"
SUBJECT = "group normalization"
STUDENT_FUNCTIONS = {"forward": "spatial_groupnorm_forward", "backward": "spatial_groupnorm_backward"}
REFERENCE_FUNCTIONS = {"forward": "spatial_groupnorm_forward", "backward": "spatial_groupnorm_backward"}
PARAM_NAME = "gn_param"  # the plain-value argument; its changes are only reported by the student's process
REFERENCE_ENTRY = "reference/groupnorm.py"
CALLS = (
    layer.Call("forward", results=("out", "@cache")),
    layer.Call("backward", results=("dx", "dgamma", "dbeta"), needs=("cache",)),
)
INPUT_NAMES = "x, gamma, beta, dout or gn_param"
STAND_INS = {"cache": "None"}  # the template's `out, cache = None, None`
STARTER_TEMPLATE = '''
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta
'''
KIT = None
SANDBOX_PACKAGES: dict[str, str] = {}

DEFAULT_RUBRIC = {
    "points": {
        "forward_notebook": 10,
        "forward_hidden": 30,
        "backward_notebook": 10,
        "backward_hidden": 40,
        "inputs_unchanged": 10,
    },
    # Right float64 code agrees with the reference to about 1e-12; eps added to the std
    # is off by about eps / (2 std), 1e-6 and more, so it fails.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

# The notebook's printed input figures (8 decimals), per (sample, group) row of
# x.reshape(N*G, -1), and the stds after that the course's formula gives (see the docstring).
NOTEBOOK_MEANS_BEFORE = np.array([9.72505327, 8.51114185, 8.9147544, 9.43448077])
NOTEBOOK_STDS_BEFORE = np.array([3.67070958, 3.09892597, 4.27043622, 3.97521327])
FORMULA_STDS_AFTER = 1 / np.sqrt(1 + 1e-5 / NOTEBOOK_STDS_BEFORE ** 2)


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    G: int
    dout: np.ndarray
    gn_param: dict = field(default_factory=dict)
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "backward")

    @property
    def where(self) -> str:
        eps = f", eps {self.gn_param['eps']:g}" if "eps" in self.gn_param else ""
        return f"at G {self.G} (x {self.x.shape}{eps})"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            args = [{"array": "x"}, {"array": "gamma"}, {"array": "beta"}, {"value": self.G}, {"value": self.gn_param}]
            return args, {"x": self.x, "gamma": self.gamma, "beta": self.beta}
        cache = {"kept": kept["cache"]} if "cache" in kept else {"value": None}
        return [{"array": "dout"}, cache], {"dout": self.dout}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    """For a right answer to the notebook's forward case: what its cell would show."""
    if case_id != "notebook-forward":
        return ""
    rows = out.reshape(len(FORMULA_STDS_AFTER), -1)
    mean = float(np.max(np.abs(rows.mean(axis=1))))
    diff = float(np.max(np.abs(rows.std(axis=1) - FORMULA_STDS_AFTER)))
    return (f"; per-group means within {mean:.0e} of 0 and stds 1 - eps / (2 var) to {diff:.0e}, "
            f"as the notebook's cell expects")


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one."""
    if got is None:
        return ""
    from reference import groupnorm

    if label == "out" and got.shape == case.x.shape:
        return _forward_note(case, got)
    if label in ("dgamma", "dbeta"):
        _, cache = groupnorm.spatial_groupnorm_forward(case.x, case.gamma, case.beta, case.G, case.gn_param)
        per_item = case.dout * cache[0] if label == "dgamma" else case.dout
        right = per_item.sum(axis=(0, 2, 3), keepdims=True)
        if got.size == right.size and got.shape != right.shape and layer.is_exactly(got.reshape(right.shape), right):
            return (f". The values are right but {label} must have gamma's shape {right.shape}: "
                    f"sum with keepdims=True (or reshape)")
    return ""


def _forward_note(case: Case, got: np.ndarray) -> str:
    from reference import groupnorm

    args = (case.x, case.gamma, case.beta)
    n, c = case.x.shape[:2]
    # With G = 1 or G = C interleaved groups are the right ones: nothing to name there.
    if 1 < case.G < c and layer.is_exactly(got, groupnorm.spatial_groupnorm_forward_interleaved(*args, case.G, case.gn_param)):
        return (". Group g held the channels c with c % G == g (x.reshape(N, C // G, G, H, W)): a group is "
                "C/G consecutive channels, x.reshape(N, G, C // G, H, W)")
    if c // case.G != case.G and layer.is_exactly(got, groupnorm.spatial_groupnorm_forward(*args, c // case.G, case.gn_param)[0]):
        return f". This is {c // case.G} groups of {case.G} channels: G is the number of groups, each C/G channels"
    if layer.is_exactly(got, groupnorm.spatial_groupnorm_forward_eps_outside(*args, case.G, case.gn_param)):
        return (". eps was added to the standard deviation; the course divides by "
                    "np.sqrt(var + eps)")
    return ""



def notebook_cases() -> list[Case]:
    n, c, h, w, g = 2, 6, 4, 5, 2
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls
    x = 4 * rng.randn(n, c, h, w) + 10
    rng = np.random.RandomState(231)
    bx = 5 * rng.randn(n, c, h, w) + 12
    bgamma, bbeta = rng.randn(1, c, 1, 1), rng.randn(1, c, 1, 1)
    bdout = rng.randn(n, c, h, w)
    return [
        Case("notebook-forward", "notebook", x, np.ones((1, c, 1, 1)), np.zeros((1, c, 1, 1)), g,
             np.zeros_like(x), {"mode": "train"}, graded=("forward",), calls=("forward",)),
        # The forward runs here, untested, to give backward the student's own cache.
        Case("notebook-backward", "notebook", bx, bgamma, bbeta, g, bdout, {}, graded=("backward",)),
    ]


# (N, C, G, H, W, scale, eps or None): x = scale * randn + offset per channel. Each row
# catches a real bug: C/G != G and G > 1 with C/G > 1 (the interleaved reshape (N, C//G,
# G, ...) and G taken as the group size both differ from consecutive groups); G = 1 and
# G = C (group norm turns into layer norm and instance norm: code that special-cases
# the notebook's G = 2 fails); N = 1 (batch statistics have no spread); non-square H, W;
# scale 0.01 (var near eps: eps added to the std is 5% off); a given eps (hard-coded 1e-5).
HIDDEN_SHAPES = [
    (2, 6, 3, 3, 4, 1.0, None),
    (3, 8, 2, 2, 5, 2.0, None),
    (2, 12, 4, 3, 3, 0.01, None),
    (1, 6, 3, 4, 2, 1.0, None),
    (2, 4, 1, 3, 3, 1.0, None),
    (2, 4, 4, 2, 3, 1.0, None),
    (3, 12, 3, 2, 2, 0.1, 1e-3),
    (2, 10, 5, 3, 2, 0.01, 1e-6),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        n, c, g, h, w, scale, eps = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        # A different offset per channel: statistics over the wrong channels are then far off.
        x = scale * rng.standard_normal((n, c, h, w)) + rng.uniform(-10, 10, (1, c, 1, 1))
        gamma, beta = rng.standard_normal((1, c, 1, 1)), rng.standard_normal((1, c, 1, 1))
        dout = rng.standard_normal((n, c, h, w))
        param = {} if eps is None else {"eps": eps}
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, gamma, beta, g, dout, param))
    return cases


# The notebook times no group norm; a batch of the conv speed cell's activations
# (N, C, H, W = 100, 24, 16, 16, G = 6) is a size a course might ask for.
SPEED_SIZES = {
    "speed-cell": {"x": (100, 24, 16, 16), "G": 6},
    "small": {"x": (4, 6, 8, 8), "G": 2},
}


def speed_case_name(size: str) -> str:
    shapes = SPEED_SIZES[size]
    suffix = " (a conv layer's activations)" if size == "speed-cell" else " (a small development size)"
    return f"x {shapes['x']}, G {shapes['G']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    shapes = SPEED_SIZES[size]
    x = 5 * rng.standard_normal(shapes["x"]) + 12
    c = shapes["x"][1]
    return Case(f"speed-{trial}", "speed", x, rng.standard_normal((1, c, 1, 1)), rng.standard_normal((1, c, 1, 1)),
                shapes["G"], rng.standard_normal(shapes["x"]))


def timed_flops(function: str, size: str) -> int:
    """Operations of one timed call, per element of x: forward 7 (the mean's add, the
    centring, the square and its sum, the division, gamma's multiply, beta's add);
    backward 10 (dgamma's multiply and add, dbeta's add, dout*gamma, the two means'
    multiply and adds, the final subtractions and division)."""
    return int(np.prod(SPEED_SIZES[size]["x"])) * (7 if function == "forward" else 10)


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) = (N*G, C/G*H*W, 1): a product that reads x once, group by group (group
    norm streams x a few times with no multiply-add to block)."""
    shapes = SPEED_SIZES[size]
    n, g = shapes["x"][0], shapes["G"]
    return n * g, int(np.prod(shapes["x"])) // (n * g), 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: x, gamma, beta and dout of the speed cell in; twice its
    outputs (out or dx, dgamma, dbeta) out."""
    x_bytes = 8 * int(np.prod(SPEED_SIZES["speed-cell"]["x"]))
    channel_bytes = 8 * SPEED_SIZES["speed-cell"]["x"][1]
    return 2 * x_bytes + 2 * channel_bytes + 4096, 2 * (x_bytes + 2 * channel_bytes) + 4096


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    from reference import groupnorm

    out, cache = groupnorm.spatial_groupnorm_forward(case.x, case.gamma, case.beta, case.G, case.gn_param)
    dx, dgamma, dbeta = groupnorm.spatial_groupnorm_backward(case.dout, cache)
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
