"""The CS231n softmax loss pack: ``softmax_loss(x, y) -> (loss, dx)``, x (N, C) class
scores, y (N,) labels; loss = -(1/N) sum_i log(exp(x_iy_i) / sum_j exp(x_ij)), dx its
gradient (shape of x). One call, named "loss", with two results.

Facts relied on (source: CS231n assignment 2's ``cs231n/layers.py`` and its
FullyConnectedNets notebook, as in public copies of 2016-2026):
- The signature and the averaging over N have not changed. Older templates ship
  softmax_loss already written; the newer ones (those with the START/END OF YOUR CODE
  markers) leave it to the student, "similar to the softmax loss vectorized
  implementation in cs231n/classifiers/softmax.py", starting from ``loss, dx = None,
  None``. All 74 public students' layers.py files define it.
- Notebook cell "Loss layers: Softmax and SVM": np.random.seed(231); num_classes,
  num_inputs = 10, 50; x = 0.001 * randn(num_inputs, num_classes); y = randint(num_classes,
  size=num_inputs); "Loss should be close to 2.3 and dx error should be around e-8". With
  scores this close every class has probability about 1/10, so the loss is about log(10).
- The real bugs the hidden cases aim at: exp of the raw scores, which overflows (or, far
  below zero, underflows to 0/0) once scores reach a few hundred, where subtracting each
  row's maximum first gives the same answer safely; the loss summed and not averaged; dx
  not divided by N. The notebook's scores are near 0, so only hidden cases see either.
"""

from __future__ import annotations

import numpy as np

from . import layer, loss_layer

NAME = "cs231n-softmax-loss"
TITLE = "CS231n softmax loss"
SUBJECT = "the softmax loss"
STUDENT_FUNCTIONS = {"loss": "softmax_loss"}
REFERENCE_FUNCTIONS = {"loss": "softmax_loss"}
REFERENCE_ENTRY = "reference/losses.py"
PARAM_NAME = loss_layer.PARAM_NAME
CALLS = (loss_layer.CALL,)
INPUT_NAMES = loss_layer.INPUT_NAMES
STAND_INS = loss_layer.STAND_INS
STARTER_TEMPLATE = '''
def softmax_loss(x, y):
    loss, dx = None, None
    ###########################################################################
    # TODO: Implement the loss and gradient for softmax classification. This  #
    # will be similar to the softmax loss vectorized implementation in        #
    # cs231n/classifiers/softmax.py.                                          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dx
'''
KIT = None  # no student self-check kit yet
SANDBOX_PACKAGES: dict[str, str] = {}

DEFAULT_RUBRIC = {
    "points": {"loss_notebook": 20, "loss_hidden": 70, "inputs_unchanged": 10},
    "tolerance": loss_layer.TOLERANCE,
    # The notebook does not race the loss layers: no speed points unless a course asks.
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

Case = loss_layer.Case
INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
# One notebook case that grades both results, then the hidden cases (loss_layer.plan_cases).
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS, loss_layer.plan_cases)

# (N, C, center, spread) of the scores: unit spread, a single sample (N = 1), two classes,
# many classes, a wide spread (probabilities near 0 and 1), and scores near +1000 and
# -1000: exp of the raw scores overflows to inf (inf / inf = NaN) or underflows to 0
# (0 / 0), and only a solution that subtracts each row's maximum gives the finite answer.
HIDDEN_SHAPES = [
    (50, 10, 0.0, 1.0),
    (1, 5, 0.0, 1.0),
    (20, 2, 0.0, 2.0),
    (64, 20, 0.0, 0.5),
    (16, 7, 0.0, 10.0),
    (8, 5, 1000.0, 3.0),
    (8, 5, -1000.0, 3.0),
]

SPEED_SIZES = {
    # Not a notebook cell (it times no loss): a large training batch of CIFAR-10's 10 classes.
    "speed-cell": {"x": (4000, 10)},
    "small": {"x": (50, 10)},
}


def notebook_cases() -> list[Case]:
    return [loss_layer.notebook_case()]


def hidden_cases(seed: int, count: int) -> list[Case]:
    return loss_layer.hidden_cases(HIDDEN_SHAPES, seed, count)


def published_note(case_id: str, out: np.ndarray) -> str:
    if case_id != "notebook" or out is None or out.ndim != 0:
        return ""
    return f"; the notebook prints this loss, {float(out):.6f} (\"close to 2.3\")"


# Past this, exp(x) is inf in float64 (and exp(-x) is 0): the raw scores cannot be exponentiated.
EXP_OVERFLOWS = float(np.log(np.finfo(np.float64).max))


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one."""
    from reference import losses

    loss, dx = losses.softmax_loss(case.x, case.y)
    if got is not None and not np.all(np.isfinite(got)) and np.abs(case.x).max() > EXP_OVERFLOWS:
        return (". exp of scores this large overflows (or, far below zero, underflows to 0/0): subtract each "
                "row's maximum from x before exponentiating (softmax is unchanged by it, and exp then stays "
                "at or below 1)")
    return loss_layer.scaled_note(case, label, got, loss if label == "loss" else dx)


def speed_case_name(size: str) -> str:
    suffix = " (a large training batch)" if size == "speed-cell" else " (the notebook's size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    return loss_layer.speed_case(SPEED_SIZES, rng, trial, size)


def timed_flops(function: str, size: str) -> int:
    """Operations of one call at ``size``, an exponential counted as one: per score, the
    row maximum's comparison, the shift, exp, the row sum, the division into a probability,
    and dx's subtraction and division by N: 7 per element of x (the N logarithms aside)."""
    n, c = SPEED_SIZES[size]["x"]
    return 7 * n * c


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F): one row per sample, one column per class, F = 1: a product that reads x
    once, as the loss must. A loss does no multiplications to speak of, so the percentage
    says how close the code comes to streaming x at BLAS speed."""
    n, c = SPEED_SIZES[size]["x"]
    return n, c, 1


def arena_sizes() -> tuple[int, int]:
    return loss_layer.arena_sizes(SPEED_SIZES)


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    from reference import losses

    loss, dx = losses.softmax_loss(case.x, case.y)
    return {"loss": loss, "dx": dx}
