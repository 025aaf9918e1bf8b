"""The CS231n layer-normalization pack: ``layernorm_forward(x, gamma, beta, ln_param) ->
(out, cache)`` and ``layernorm_backward(dout, cache) -> (dx, dgamma, dbeta)``.

Facts relied on, with their source:

- API (cs231n/layers.py of assignment 2, 2018-2026): x (N, D), gamma and beta (D,),
  ln_param a dict whose 'eps' defaults to 1e-5 (the template's own line
  ``eps = ln_param.get("eps", 1e-5)``); each sample is normalised over its D features with
  the biased variance, x_hat = (x - mean) / np.sqrt(var + eps). The template starts
  ``out, cache = None, None`` and the backward ``dx, dgamma, dbeta = None, None, None``:
  a forward that gives no cache leaves backward with None (``STAND_INS``).
- The notebook (BatchNormalization.ipynb, "Layer Normalization: Implementation", read in
  public copies of the 2019-2025 notebook): forward check np.random.seed(231);
  N, D1, D2, D3 = 4, 50, 60, 3; X = randn(N, D1); W1 = randn(D1, D2); W2 = randn(D2, D3);
  a = np.maximum(0, X.dot(W1)).dot(W2) (shape (4, 3)), called with ln_param
  {'mode': 'train'}. It prints per-sample means [-59.06673243, -47.60782686,
  -43.31137368, -26.40991744] and stds [10.07429373, 28.39478981, 35.28360729,
  4.01831507] before, and after (gamma = 1, beta = 0) means about 1e-16 and stds
  [0.99999995, 0.99999999, 1., 0.99999969]. Backward check: np.random.seed(231);
  N, D = 4, 5; x = 5 * randn(N, D) + 12; gamma, beta = randn(D), randn(D); dout =
  randn(N, D); ln_param = {}; numeric gradients; "relative errors between 1e-12 and 1e-8"
  (a published run prints dx 1.4e-09, dgamma 4.5e-12, dbeta 2.3e-12).
- Real bugs (issue 26's screen of 74 public layers.py files: 46 define layer norm; eps
  misplaced in 9, statistics over the wrong axes in 8): batchnorm copied unchanged (statistics over the
  batch, axis 0), eps added to the std, dgamma/dbeta summed over the features (shape (N,))
  or kept 2-D (keepdims, shape (1, D)). Each has a hidden case and a message below.

Not timed by default (the rubric's speed is off): the assignment races only the batchnorm
backward; the speed sizes are declared so a course can ask for timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import layer

NAME = "cs231n-layernorm"
TITLE = "CS231n layer normalization"
SUBJECT = "layer normalization"
STUDENT_FUNCTIONS = {"forward": "layernorm_forward", "backward": "layernorm_backward"}
REFERENCE_FUNCTIONS = {"forward": "layernorm_forward", "backward": "layernorm_backward"}
PARAM_NAME = "ln_param"  # the plain-value argument; its changes are only reported by the student's process
REFERENCE_ENTRY = "reference/layernorm.py"
CALLS = (
    layer.Call("forward", results=("out", "@cache")),
    layer.Call("backward", results=("dx", "dgamma", "dbeta"), needs=("cache",)),
)
INPUT_NAMES = "x, gamma, beta, dout or ln_param"
STAND_INS = {"cache": "None"}  # the template's `out, cache = None, None`
STARTER_TEMPLATE = '''
def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def layernorm_backward(dout, cache):
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
    # instead of inside the root is off by about eps / (2 std), 1e-6 and more, so it fails.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

# The notebook's printed figures (8 decimals) for its forward check's input and output.
NOTEBOOK_MEANS_BEFORE = np.array([-59.06673243, -47.60782686, -43.31137368, -26.40991744])
NOTEBOOK_STDS_BEFORE = np.array([10.07429373, 28.39478981, 35.28360729, 4.01831507])
NOTEBOOK_STDS_AFTER = np.array([0.99999995, 0.99999999, 1.0, 0.99999969])


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    dout: np.ndarray
    ln_param: dict = field(default_factory=dict)
    graded: tuple[str, ...] = ("forward", "backward")
    calls: tuple[str, ...] = ("forward", "backward")

    @property
    def where(self) -> str:
        eps = f", eps {self.ln_param['eps']:g}" if "eps" in self.ln_param else ""
        return f"at x {self.x.shape}{eps}"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call == "forward":
            args = [{"array": "x"}, {"array": "gamma"}, {"array": "beta"}, {"value": self.ln_param}]
            return args, {"x": self.x, "gamma": self.gamma, "beta": self.beta}
        cache = {"kept": kept["cache"]} if "cache" in kept else {"value": None}
        return [{"array": "dout"}, cache], {"dout": self.dout}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    """For a right answer to the notebook's forward case: its stds against the printed ones."""
    if case_id != "notebook-forward":
        return ""
    stds = out.std(axis=1)
    diff = float(np.max(np.abs(stds - NOTEBOOK_STDS_AFTER)))
    return f"; per-sample stds differ from the notebook's printed ones by at most {diff:.1e} (8 decimals printed)"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one."""
    if got is None:
        return ""
    from reference import layernorm

    if label == "out" and got.shape == case.x.shape:
        args = (case.x, case.gamma, case.beta, case.ln_param)
        if layer.is_exactly(got, layernorm.layernorm_forward_batch_axis(*args)):
            return (". These are x normalised over the batch (axis 0), as batchnorm does: layer norm takes each "
                    "sample's mean and variance over its own D features (axis 1)")
        if layer.is_exactly(got, layernorm.layernorm_forward_eps_outside(*args)):
            return (". eps was added to the standard deviation; the course divides by "
                    "np.sqrt(var + eps)")
        return ""
    if label in ("dgamma", "dbeta"):
        _, cache = layernorm.layernorm_forward(case.x, case.gamma, case.beta, case.ln_param)
        x_hat = cache[0]
        per_item = case.dout * x_hat if label == "dgamma" else case.dout
        right = per_item.sum(axis=0)
        if got.size == right.size and got.shape != right.shape and layer.is_exactly(got.reshape(right.shape), right):
            return f". The values are right: return {label} in gamma's shape {right.shape}"
        if got.shape == (case.x.shape[0],) and layer.is_exactly(got, per_item.sum(axis=1)):
            return (f". {label} was summed over the features (axis 1): sum over the batch (axis 0), "
                    f"one value per feature")
    return ""



def _notebook_forward_input() -> np.ndarray:
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls
    n, d1, d2, d3 = 4, 50, 60, 3
    x = rng.randn(n, d1)
    w1 = rng.randn(d1, d2)
    w2 = rng.randn(d2, d3)
    return np.maximum(0, x.dot(w1)).dot(w2)


def notebook_cases() -> list[Case]:
    a = _notebook_forward_input()
    rng = np.random.RandomState(231)
    bx = 5 * rng.randn(4, 5) + 12
    bgamma, bbeta = rng.randn(5), rng.randn(5)
    bdout = rng.randn(4, 5)
    return [
        Case("notebook-forward", "notebook", a, np.ones(3), np.zeros(3), np.zeros_like(a), {"mode": "train"},
             graded=("forward",), calls=("forward",)),
        # The forward runs here, untested, to give backward the student's own cache.
        Case("notebook-backward", "notebook", bx, bgamma, bbeta, bdout, {}, graded=("backward",)),
    ]


# (N, D, scale, eps or None): x = scale * randn + offset. Every shape has N != D unless
# said, so statistics over the batch (batchnorm copied) and dgamma summed over the
# features (shape (N,)) both show; scale 0.01 makes var (1e-4) close to eps, where eps
# added to the std is 5% off; a given eps catches a hard-coded 1e-5; N = 1 gives
# batch statistics a zero variance; N == D hides the wrong axis from shapes, not values.
HIDDEN_SHAPES = [
    (5, 8, 1.0, None),
    (7, 3, 5.0, None),
    (4, 6, 0.01, None),
    (1, 9, 2.0, None),
    (6, 6, 1.0, None),
    (3, 10, 0.1, 1e-3),
    (8, 4, 0.01, 1e-6),
    (2, 16, 3.0, None),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        n, d, scale, eps = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        x = scale * rng.standard_normal((n, d)) + rng.uniform(-10, 10)
        gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
        dout = rng.standard_normal((n, d))
        param = {} if eps is None else {"eps": eps}
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, gamma, beta, dout, param))
    return cases


# The notebook times no layer norm; its batchnorm speed cell's size (N, D = 100, 500)
# is the natural one if a course asks for timing.
SPEED_SIZES = {
    "speed-cell": {"x": (100, 500)},
    "small": {"x": (8, 20)},
}


def speed_case_name(size: str) -> str:
    suffix = " (the notebook's batchnorm speed-cell size)" if size == "speed-cell" else " (a small development size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    n, d = SPEED_SIZES[size]["x"]
    x = 5 * rng.standard_normal((n, d)) + 12
    return Case(f"speed-{trial}", "speed", x, rng.standard_normal(d), rng.standard_normal(d),
                rng.standard_normal((n, d)))


def timed_flops(function: str, size: str) -> int:
    """Operations of one timed call, per element of x: forward 7 (the mean's add, the
    centring, the square and its sum, the division, gamma's multiply, beta's add);
    backward 10 (dgamma's multiply and add, dbeta's add, dout*gamma, the two means'
    multiply and adds, the final subtractions and division)."""
    n, d = SPEED_SIZES[size]["x"]
    return n * d * (7 if function == "forward" else 10)


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) = (N, D, 1): a product that reads x once. Layer norm streams x a few
    times with no multiply-add to block, so the percentage says how near the code comes
    to streaming its input at BLAS speed, not a bound it could reach."""
    n, d = SPEED_SIZES[size]["x"]
    return n, d, 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: x, gamma, beta and dout of the speed cell in; twice
    its outputs (out or dx, dgamma, dbeta) out."""
    n, d = SPEED_SIZES["speed-cell"]["x"]
    x_bytes, row_bytes = 8 * n * d, 8 * d
    return 2 * x_bytes + 2 * row_bytes + 4096, 2 * (x_bytes + 2 * row_bytes) + 4096


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    from reference import layernorm

    out, cache = layernorm.layernorm_forward(case.x, case.gamma, case.beta, case.ln_param)
    dx, dgamma, dbeta = layernorm.layernorm_backward(case.dout, cache)
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
