"""The CS231n spatial batch-normalization pack: ``spatial_batchnorm_forward(x, gamma, beta,
bn_param) -> (out, cache)`` and ``spatial_batchnorm_backward(dout, cache) -> (dx, dgamma,
dbeta)``, x (N, C, H, W), gamma and beta (C,): batch normalization per channel over N, H
and W, with the same bn_param and running statistics as the plain layer (its pack,
cs231n_batchnorm, holds the dict protocol's story and the cases' call sequence: two
train forwards, a test forward, the backward with the first forward's cache).

Facts relied on (CS231n assignment 2, ConvolutionalNetworks.ipynb, "Spatial batch
normalization"; the same from 2017 to 2026):

- Train forward: np.random.seed(231); N, C, H, W = 2, 3, 4, 5;
  x = 4 * randn(N, C, H, W) + 10; with gamma [3, 4, 5] and beta [6, 7, 8] the output's
  per-channel means are about beta and its stds about gamma.
- Test-time forward: np.random.seed(231); N, C, H, W = 10, 4, 11, 12; 50 train calls on
  x = 2.3 * randn(N, C, H, W) + 13 sharing one bn_param = {'mode': 'train'} (gamma 1,
  beta 0), then mode 'test' on one more such x: means about 0, stds about 1.
- Gradient check: np.random.seed(231); N, C, H, W = 2, 3, 4, 5;
  x = 5 * randn(N, C, H, W) + 12; gamma = randn(C); beta = randn(C);
  dout = randn(N, C, H, W); bn_param = {'mode': 'train'}.

The layout is what students get wrong (8 of 74 public files normalise over the wrong
axes): x.reshape(-1, C) without moving the channel axis last mixes channels in every row,
and rows put back with out.reshape(N, C, H, W) scramble a right answer. Both have a note.
Not raced in the notebook: timed like the plain layer's calls, for no points by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import cs231n_batchnorm as plain
from . import layer

NAME = "cs231n-spatial-batchnorm"
TITLE = "CS231n spatial batch normalization"
SUBJECT = "spatial batch normalization"
STUDENT_FUNCTIONS = {
    "forward_train": "spatial_batchnorm_forward",
    "forward_train_again": "spatial_batchnorm_forward",
    "forward_test": "spatial_batchnorm_forward",
    "backward": "spatial_batchnorm_backward",
}
REFERENCE_FUNCTIONS = dict(STUDENT_FUNCTIONS)
PARAM_NAME = "bn_param"
REFERENCE_ENTRY = "reference/batchnorm.py"
RUNNING = plain.RUNNING
FORWARDS = plain.FORWARDS
CALLS = tuple(call for call in plain.CALLS if call.name in STUDENT_FUNCTIONS)
ALL_CALLS = tuple(call.name for call in CALLS)
INPUT_NAMES = plain.INPUT_NAMES
STAND_INS = plain.STAND_INS
STARTER_TEMPLATE = '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    out, cache = None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def spatial_batchnorm_backward(dout, cache):
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
        "forward_train_notebook": 10,
        "forward_train_again_notebook": 3,
        "forward_test_notebook": 7,
        "backward_notebook": 10,
        "forward_train_hidden": 15,
        "forward_train_again_hidden": 10,
        "forward_test_hidden": 15,
        "backward_hidden": 20,
        "inputs_unchanged": 10,
    },
    "tolerance": plain.DEFAULT_RUBRIC["tolerance"],
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}


@dataclass
class Case(plain.Case):
    FORWARD = "spatial_batchnorm_forward"
    BACKWARD = "spatial_batchnorm_backward"
    FORWARD_BUG = "spatial_batchnorm_forward_bug"

    graded: tuple[str, ...] = ALL_CALLS
    calls: tuple[str, ...] = ALL_CALLS


NOTEBOOK_GRADED = {
    "notebook-train": ("forward_train",),
    "notebook-test": ("forward_train", "forward_train_again", "forward_test"),
    "notebook-backward": ("backward",),
}


def plan_cases(hidden_count: int) -> list[tuple[str, str, tuple[str, ...]]]:
    return plain.plan_cases(hidden_count, NOTEBOOK_GRADED, ALL_CALLS)


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = plain.role_named_checks(*layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS, plan_cases))


def notebook_cases() -> list[Case]:
    from reference import batchnorm

    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231), then its draws in order
    x = 4 * rng.randn(2, 3, 4, 5) + 10
    train = Case("notebook-train", "notebook", (x, x, x), np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0]),
                 np.ones_like(x), {}, graded=NOTEBOOK_GRADED["notebook-train"], calls=("forward_train",))

    # The test-time cell: its first 48 train calls are the reference's (their statistics
    # start the case's bn_param), its 49th and 50th the student's, then the test call.
    rng = np.random.RandomState(231)
    shape, ones, zeros = (10, 4, 11, 12), np.ones(4), np.zeros(4)
    param = {"mode": "train"}
    for _ in range(48):
        batchnorm.spatial_batchnorm_forward(2.3 * rng.randn(*shape) + 13, ones, zeros, param)
    xs = tuple(2.3 * rng.randn(*shape) + 13 for _ in range(3))
    test = Case("notebook-test", "notebook", xs, ones, zeros, np.ones_like(xs[0]),
                {key: param[key] for key in RUNNING}, graded=NOTEBOOK_GRADED["notebook-test"],
                calls=("forward_train", "forward_train_again", "forward_test"))

    rng = np.random.RandomState(231)
    x = 5 * rng.randn(2, 3, 4, 5) + 12
    gamma, beta, dout = rng.randn(3), rng.randn(3), rng.randn(2, 3, 4, 5)
    backward = Case("notebook-backward", "notebook", (x, x, x), gamma, beta, dout, {},
                    graded=NOTEBOOK_GRADED["notebook-backward"], calls=("forward_train", "backward"))
    return [train, test, backward]


# (N, C, H, W, scale, offset, eps, momentum, running statistics given?). Every shape has
# C >= 2 and H * W >= 2, where both layout bugs change the answer; H != W and N != C
# catch axis mix-ups the square notebook shapes hide; one N = 1 (statistics over H and W
# only); a small scale makes eps a visible part of var + eps; given statistics, eps and
# momentum catch the plain layer's bugs through the spatial one.
HIDDEN_SHAPES = [
    (2, 3, 4, 5, 5.0, 12.0, None, None, False),
    (3, 2, 5, 3, 0.01, 0.0, None, None, False),
    (1, 4, 3, 6, 1.0, -2.0, 0.1, 0.8, True),
    (4, 5, 2, 2, 2.0, 1.0, None, 0.7, True),
    (2, 6, 3, 4, 0.05, 3.0, 1e-3, 0.95, False),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng([seed, 27])
    cases = []
    for index in range(count):
        n, c, h, w, scale, offset, eps, momentum, given = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        shift = scale * rng.standard_normal((1, c, 1, 1))  # a mean of its own per channel
        xs = tuple(scale * rng.standard_normal((n, c, h, w)) + offset + shift for _ in range(3))
        param: dict = {}
        if eps is not None:
            param["eps"] = eps
        if momentum is not None:
            param["momentum"] = momentum
        if given:
            param["running_mean"] = offset + scale * rng.standard_normal(c)
            param["running_var"] = scale**2 * rng.uniform(0.5, 2.0, c)
        gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
        cases.append(Case(f"hidden-{index + 1}", "hidden", xs, gamma, beta, rng.standard_normal((n, c, h, w)), param))
    return cases


def published_note(case_id: str, out: np.ndarray) -> str:
    """The notebook's own read-out of a right forward: per-channel means and stds."""
    if case_id not in ("notebook-train", "notebook-test") or out is None or out.ndim != 4:
        return ""
    expected = "about beta [6, 7, 8] and gamma [3, 4, 5]" if case_id == "notebook-train" else "about 0 and 1"
    means, stds = plain.two_places(out.mean(axis=(0, 2, 3))), plain.two_places(out.std(axis=(0, 2, 3)))
    return f"; per-channel means [{means}], stds [{stds}] (the notebook expects {expected})"


BUG_NOTES = {
    "reshape_without_transpose": (
        "The statistics mix channels: x.reshape(-1, C) puts values of several channels in each row; move the "
        "channel axis last first, x.transpose(0, 2, 3, 1).reshape(-1, C), and back afterwards"),
    "transpose_back_missing": (
        "The values are right but in the wrong places: rows of (N*H*W, C) put back with reshape(N, C, H, W); "
        "reshape to (N, H, W, C), then transpose(0, 3, 1, 2)"),
    **plain.BUG_NOTES,
}


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    return plain.wrong_answer_note(case, label, got, BUG_NOTES)


_bug_values_of = plain._bug_values  # (call, label, value) of each forward with a bug, for the tests


# The timed sizes: the notebook's test-time cell's x, and a small one.
SPEED_SIZES = {"speed-cell": {"x": (10, 4, 11, 12)}, "small": {"x": (2, 3, 4, 5)}}


def speed_case_name(size: str) -> str:
    suffix = " (the notebook's test-time cell)" if size == "speed-cell" else " (a small development size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh inputs at the timed size, one set per trial; every call runs (the timing
    phase keys its times by call)."""
    shape = SPEED_SIZES[size]["x"]
    xs = tuple(2.3 * rng.standard_normal(shape) + 13 for _ in range(3))
    c = shape[1]
    return Case(f"speed-{trial}", "speed", xs, rng.standard_normal(c), rng.standard_normal(c),
                rng.standard_normal(shape), {})


def timed_flops(function: str, size: str) -> int:
    """About 10 operations per element, as the plain layer's calls (see cs231n_batchnorm)."""
    return 10 * int(np.prod(SPEED_SIZES[size]["x"]))


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F): a product reading x once per channel column (M = N*H*W, K = C, F = 1)."""
    n, c, h, w = SPEED_SIZES[size]["x"]
    return n * h * w, c, 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes at the speed cell, laid out as the plain layer's are."""
    shape = SPEED_SIZES["speed-cell"]["x"]
    x_bytes, row_bytes = 8 * int(np.prod(shape)), 8 * shape[1]
    return 4 * x_bytes + 12 * row_bytes + 8192, 2 * (3 * x_bytes + 4 * row_bytes) + 8192


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


expected_outputs = plain.expected_outputs
