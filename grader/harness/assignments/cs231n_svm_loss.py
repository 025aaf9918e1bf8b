"""The CS231n multiclass SVM loss pack: ``svm_loss(x, y) -> (loss, dx)``, x (N, C) class
scores, y (N,) labels; loss = (1/N) sum_i sum_{j != y_i} max(0, x_ij - x_iy_i + 1), dx
its gradient (shape of x). One call, named "loss", with two results.

Facts relied on (source: CS231n assignment 2's ``cs231n/layers.py`` and its
FullyConnectedNets notebook, as in public copies of 2016-2026):
- The signature and the averaging over N have not changed. Older templates ship svm_loss
  already written; the newer ones (those with the START/END OF YOUR CODE markers) leave it
  to the student, "similar to the svm loss vectorized implementation in
  cs231n/classifiers/linear_svm.py", starting from ``loss, dx = None, None``. 52 of 74
  public students' layers.py files define it (newer years moved it out of layers.py).
- Notebook cell "Loss layers: Softmax and SVM": np.random.seed(231); num_classes,
  num_inputs = 10, 50; x = 0.001 * randn(num_inputs, num_classes); y = randint(num_classes,
  size=num_inputs); "Loss should be around 9 and dx error should be around the order of
  e-9" (a numerical gradient of the student's own loss). With scores this close, every
  one of the 9 wrong classes has a margin of about 1, so the loss is about 9.
- The real bugs the hidden cases aim at: the correct class counted as a margin of its own
  (max(0, x_iy - x_iy + 1) = 1 per sample: the loss exactly 1 too large, dx unchanged,
  so the notebook's gradient check passes), the loss summed and not averaged, dx not
  divided by N. Scores of unit spread (hidden cases) make some margins negative, which
  the notebook's scores never do.
"""

from __future__ import annotations

import numpy as np

from . import layer, loss_layer

NAME = "cs231n-svm-loss"
TITLE = "CS231n SVM loss"
SUBJECT = "the multiclass SVM loss"
STUDENT_FUNCTIONS = {"loss": "svm_loss"}
REFERENCE_FUNCTIONS = {"loss": "svm_loss"}
REFERENCE_ENTRY = "reference/losses.py"
PARAM_NAME = loss_layer.PARAM_NAME
CALLS = (loss_layer.CALL,)
INPUT_NAMES = loss_layer.INPUT_NAMES
STAND_INS = loss_layer.STAND_INS
STARTER_TEMPLATE = '''
def svm_loss(x, y):
    loss, dx = None, None
    ###########################################################################
    # TODO: Implement loss and gradient for multiclass SVM classification.    #
    # This will be similar to the svm loss vectorized implementation in       #
    # cs231n/classifiers/linear_svm.py.                                       #
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

# (N, C, center, spread) of the scores: unit spread (some margins negative, so a mask that
# keeps them, or the correct class's margin of 1, shows), a single sample (N = 1), two
# classes, many classes, a wide spread where most margins are zero, and scores near 1000
# (hinge losses take differences only: no overflow to catch, but no excuse for one either).
HIDDEN_SHAPES = [
    (50, 10, 0.0, 1.0),
    (1, 5, 0.0, 1.0),
    (20, 2, 0.0, 2.0),
    (64, 20, 0.0, 0.5),
    (16, 7, 0.0, 10.0),
    (8, 5, 1000.0, 3.0),
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
    return f"; the notebook prints this loss, {float(out):.6f} (\"around 9\")"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one."""
    from reference import losses

    loss, dx = losses.svm_loss(case.x, case.y)
    expected = loss if label == "loss" else dx
    if label == "loss" and got is not None and got.shape == () and np.isfinite(got) \
            and abs(float(got) - float(loss) - 1.0) <= 1e-9 * max(1.0, abs(float(loss))):
        return (". The loss is exactly 1 too large: the correct class was counted as a margin of its own "
                "(max(0, x[i, y[i]] - x[i, y[i]] + 1) = 1 for every sample); skip j == y[i] or zero that margin")
    return loss_layer.scaled_note(case, label, got, expected)


def speed_case_name(size: str) -> str:
    suffix = " (a large training batch)" if size == "speed-cell" else " (the notebook's size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    return loss_layer.speed_case(SPEED_SIZES, rng, trial, size)


def timed_flops(function: str, size: str) -> int:
    """Operations of one call at ``size``: per score, a subtraction and an addition for the
    margin, the max with 0, the sum into the loss, the comparison for the mask and the
    division of dx by N: 6 per element of x."""
    n, c = SPEED_SIZES[size]["x"]
    return 6 * n * c


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

    loss, dx = losses.svm_loss(case.x, case.y)
    return {"loss": loss, "dx": dx}
