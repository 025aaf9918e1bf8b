"""The kit's fixed public cases, each shaped to expose one real bug and no other.

Build side only: the kit receives their arrays and expected outputs in cases.npz. They
are chosen here, by hand, not drawn from the grader's hidden case generator, so that
the kit reveals nothing of the hidden cases beyond what the notebook already teaches.
Each shape property (pad 0, pad other than 1, non-square kernel, non-square output,
stride above 1) holds for a distinct set of cases, so the set of failing cases says which
property a bug depends on (diagnosis.py, beside this file).
"""

from __future__ import annotations

import numpy as np

from .. import cs231n_conv as conv2d

PUBLIC_SEED = 20240231  # public: these cases are given to students
# (id, x shape, w shape, pad, stride)
PUBLIC_SHAPES = [
    ("pad-0", (2, 3, 5, 5), (2, 3, 3, 3), 0, 1),
    ("pad-2", (1, 2, 4, 4), (3, 2, 3, 3), 2, 1),
    ("wide-kernel", (2, 2, 5, 7), (2, 2, 3, 5), 1, 1),
    ("wide-output", (1, 3, 4, 6), (2, 3, 3, 3), 1, 1),
    ("stride-2", (2, 3, 7, 7), (2, 3, 3, 3), 1, 2),
    ("mixed", (1, 1, 6, 9), (4, 1, 2, 3), 0, 2),
]


def public_cases() -> list[conv2d.Case]:
    """The notebook's two cases, then the public ones, as the grader's Case objects."""
    rng = np.random.default_rng(PUBLIC_SEED)
    cases = conv2d.notebook_cases()
    for case_id, x_shape, w_shape, pad, stride in PUBLIC_SHAPES:
        param = {"stride": stride, "pad": pad}
        x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
        dout = rng.standard_normal(conv2d.output_shape(x_shape, w_shape, param))
        cases.append(conv2d.Case(f"public-{case_id}", "public", x, w, b, dout, param))
    return cases


def case_arrays(cases: list[conv2d.Case]) -> dict[str, np.ndarray]:
    """Everything the kit needs as plain arrays: inputs, parameters and expected outputs
    (computed here by the trusted reference; only the numbers travel)."""
    arrays = {}
    for case in cases:
        expected = conv2d.expected_outputs(case)
        prefix = case.id + "/"
        arrays.update({prefix + "x": case.x, prefix + "w": case.w, prefix + "b": case.b, prefix + "dout": case.dout,
                       prefix + "pad_stride": np.array([case.conv_param["pad"], case.conv_param["stride"]]),
                       prefix + "graded": np.array([name in case.graded for name in ("forward", "backward")])})
        arrays.update({prefix + "expected_" + label: value for label, value in expected.items()})
    return arrays
