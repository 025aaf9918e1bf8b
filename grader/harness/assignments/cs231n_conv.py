"""The CS231n convolution pack, declared in one place: the functions' names, how they
are called, the notebook's cases, the hidden case generator, the speed-cell size and
its FLOP count, the reference, and the default rubric (see ``__init__`` for the list).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layer

NAME = "cs231n-conv"
TITLE = "CS231n convolution layers"
SUBJECT = "convolution"  # what-if feedback: "your convolution would pass 33 of 37 checks"
STUDENT_FUNCTIONS = {"forward": "conv_forward_naive", "backward": "conv_backward_naive"}
REFERENCE_FUNCTIONS = {"forward": "conv_forward", "backward": "conv_backward"}
PARAM_NAME = "conv_param"  # the plain-value argument; its changes are only reported by the student's process
REFERENCE_ENTRY = "reference/strided.py"  # the yardstick students are timed against
# The calls of a case, in order (see layer.Call): forward keeps its cache in the worker for
# backward; neither may change any input.
CALLS = (
    layer.Call("forward", results=("out", "@cache")),
    layer.Call("backward", results=("dx", "dw", "db"), needs=("cache",)),
)
INPUT_NAMES = "x, w, b, dout or conv_param"  # what a student is told never to write into
STAND_INS = {"cache": "(x, w, b, conv_param)"}  # the starter code's cache, given to backward when forward gave none
# The graded functions as every student starts them: the CS231n template's skeleton
# (signatures, the START/END markers, the given first and last lines). Its fingerprints
# never count in `convgrade similarity`: keeping the template is not copying.
STARTER_TEMPLATE = '''
def conv_forward_naive(x, w, b, conv_param):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db
'''
# The student self-check kit (`make student-kit`): a folder of this one (see its __init__).
KIT = "cs231n_conv_kit"
# Distributions the sandbox installs beyond numpy and the standard library, pinned
# ({"scipy": "1.14.1"}; list their dependencies too: the image installs without resolving).
SANDBOX_PACKAGES: dict[str, str] = {}

# Points per rubric group (split equally among the group's checks), tolerance and
# optional speed points. The host validates and may override these (grader.grading.config).
DEFAULT_RUBRIC = {
    "points": {
        "forward_notebook": 10,
        "forward_hidden": 30,
        "backward_notebook": 10,
        "backward_hidden": 40,
        "inputs_unchanged": 10,
    },
    # Elementwise-relative errors of correct float64 code reach about 1e-9 on elements
    # near zero; float32 work gives 1e-6 and above.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

# The notebook's forward check, and its published output rounded to 8 decimals
# (so a perfect answer shows rel_error 2.2e-08 against it).
NOTEBOOK_FORWARD_OUT = np.array([
    [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
     [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
     [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
    [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
     [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
     [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]],
])


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray
    conv_param: dict
    graded: tuple[str, ...] = ("forward", "backward")  # which calls this case scores
    calls: tuple[str, ...] = ("forward", "backward")  # the calls it runs, in order (CALLS' names)

    @property
    def where(self) -> str:
        p = self.conv_param
        return f"at pad {p['pad']}, stride {p['stride']} (x {self.x.shape}, w {self.w.shape})"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        """How ``call`` is called: its argument specs and input arrays (the worker resolves
        the names to arena arrays). ``kept``: the worker slots holding earlier calls' kept
        results ({"cache": slot}); without the cache, backward gets the template's."""
        if call == "forward":
            args = [{"array": "x"}, {"array": "w"}, {"array": "b"}, {"value": self.conv_param}]
            return args, {"x": self.x, "w": self.w, "b": self.b}
        if "cache" in kept:
            return [{"array": "dout"}, {"kept": kept["cache"]}], {"dout": self.dout}
        template = {"tuple": [{"array": "x"}, {"array": "w"}, {"array": "b"}, {"value": self.conv_param}]}
        return [{"array": "dout"}, template], {"dout": self.dout, "x": self.x, "w": self.w, "b": self.b}


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
PROPERTY_GROUPS = layer.property_groups(CALLS)
check_identity, check_plan = layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS)


def published_note(case_id: str, out: np.ndarray) -> str:
    """For a right answer to the notebook's forward case: what the notebook itself prints."""
    if case_id != "notebook-forward":
        return ""
    published = NOTEBOOK_FORWARD_OUT
    diff = float(np.max(np.abs(out - published) / np.maximum(1e-8, np.abs(out) + np.abs(published))))
    return f"; the notebook prints 'difference: {diff:.2e}' (about 2e-08 expected)"


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None) -> str:
    """A sentence naming the bug when a wrong answer is exactly a known one (none here:
    the checks' messages and the hints already name the convolution's bugs)."""
    return ""


def output_shape(x_shape, w_shape, conv_param) -> tuple[int, int, int, int]:
    n, _, h, w = x_shape
    f, _, hh, ww = w_shape
    pad, stride = conv_param["pad"], conv_param["stride"]
    return n, f, 1 + (h + 2 * pad - hh) // stride, 1 + (w + 2 * pad - ww) // stride


def notebook_cases() -> list[Case]:
    x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
    x = np.linspace(-0.1, 0.5, num=int(np.prod(x_shape))).reshape(x_shape)
    w = np.linspace(-0.2, 0.3, num=int(np.prod(w_shape))).reshape(w_shape)
    b = np.linspace(-0.1, 0.2, num=3)
    forward_param = {"stride": 2, "pad": 1}
    dout_forward = np.linspace(-1, 1, num=2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231) then randn calls
    bx, bw, bb = rng.randn(4, 3, 5, 5), rng.randn(2, 3, 3, 3), rng.randn(2)
    bdout = rng.randn(4, 2, 5, 5)
    return [
        Case("notebook-forward", "notebook", x, w, b, dout_forward, forward_param, graded=("forward",),
             calls=("forward",)),
        # The forward still runs here, untested, to give backward the student's own cache.
        Case("notebook-backward", "notebook", bx, bw, bb, bdout, {"stride": 1, "pad": 1}, graded=("backward",)),
    ]


# (pad, stride, HH, WW, square output?, N=C=F=1?): each shape catches a real bug:
# pad 0 (dx sliced with pad:-pad), pad != 1 (hard-coded pad), non-square kernels
# and outputs (HH used for WW, H' used for W'), pad != (HH-1)/2 (negative indices),
# 1x1 kernels, and a kernel as large as the padded input.
HIDDEN_SHAPES = [
    (0, 1, 3, 3, False, False),
    (0, 2, 2, 3, False, False),
    (2, 1, 5, 3, False, False),
    (3, 3, 3, 3, True, False),
    (1, 2, 3, 3, False, False),
    (0, 1, 1, 1, False, True),
    (1, 1, 4, 6, True, False),
    (2, 2, 4, 4, False, False),
]
LARGEST_KERNEL_SHAPE = 6  # index of the shape whose kernel fills the padded input


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        shape_index = index % len(HIDDEN_SHAPES)
        pad, stride, hh, ww, square, ones = HIDDEN_SHAPES[shape_index]
        n, c, f = (1, 1, 1) if ones else (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5)))
        if shape_index == LARGEST_KERNEL_SHAPE:
            h_out = w_out = 1
        else:
            h_out = int(rng.integers(2, 5))
            w_out = h_out if square else int(rng.choice([v for v in range(2, 6) if v != h_out]))
        h = max((h_out - 1) * stride + hh - 2 * pad, 1)
        w_in = max((w_out - 1) * stride + ww - 2 * pad, 1)
        # Keep the division exact: grow the image until it is.
        while (h + 2 * pad - hh) % stride:
            h += 1
        while (w_in + 2 * pad - ww) % stride:
            w_in += 1
        x = rng.standard_normal((n, c, h, w_in))
        wts = rng.standard_normal((f, c, hh, ww))
        b = rng.standard_normal(f)
        param = {"stride": stride, "pad": pad}
        dout = rng.standard_normal(output_shape(x.shape, wts.shape, param))
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, wts, b, dout, param))
    return cases


# The timed input sizes: the notebook's speed cell is what the class competes on;
# "small" keeps test suites quick where the figure itself is not the point.
SPEED_SIZES = {
    "speed-cell": {"x": (100, 3, 31, 31), "w": (25, 3, 3, 3), "conv_param": {"stride": 2, "pad": 1}},
    "small": {"x": (4, 3, 12, 12), "w": (4, 3, 3, 3), "conv_param": {"stride": 1, "pad": 1}},
}


def speed_case_name(size: str) -> str:
    shapes = SPEED_SIZES[size]
    p = shapes["conv_param"]
    suffix = " (the notebook's speed cell)" if size == "speed-cell" else " (a small development size)"
    return f"x {shapes['x']}, w {shapes['w']}, stride {p['stride']}, pad {p['pad']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh random inputs at the timed size, one set per timed trial. Uniform on [-1, 1):
    what a conv layer's speed depends on is the same as for normal values (dense, finite, no
    subnormals), and the harness draws them five times faster (normal values took 12-24 ms a
    trial here, a large part of a fast grading's timing phase)."""
    shapes = SPEED_SIZES[size]
    x = rng.uniform(-1.0, 1.0, shapes["x"])
    w = rng.uniform(-1.0, 1.0, shapes["w"])
    b = rng.uniform(-1.0, 1.0, shapes["w"][0])
    param = dict(shapes["conv_param"])
    dout = rng.uniform(-1.0, 1.0, output_shape(x.shape, w.shape, param))
    return Case(f"speed-{trial}", "speed", x, w, b, dout, param)


# -- Speed against the machine: what a timed call computes, and the matrix product of the
# same shape that an im2col convolution cannot beat (bench/bench_reference.py's yardstick).
# GFLOP/s and the percentage of the core's peak in a result come from these two declarations.

def timed_flops(function: str, size: str) -> int:
    """Floating-point operations of one timed call at ``size``: a multiply and an add per
    weight per output element, 2*N*F*C*HH*WW*H'*W' forward; backward computes dw and dx,
    each the forward's count (db is negligible), so twice that."""
    m, k, f = same_shape_gemm(size)
    forward = 2 * m * k * f
    return forward if function == "forward" else 2 * forward


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F) of the matrix product a convolution at ``size`` reduces to: (M, K) @ (K, F)
    with M = N*H'*W' output positions and K = C*HH*WW weights per filter. Backward is the
    two products (M, F).T @ (M, K) and (M, F) @ (F, K), the same count of operations twice."""
    shapes = SPEED_SIZES[size]
    n, f, h_out, w_out = output_shape(shapes["x"], shapes["w"], shapes["conv_param"])
    _, c, hh, ww = shapes["w"]
    return n * h_out * w_out, c * hh * ww, f


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes: room for the speed cell's inputs and twice its outputs,
    so an honest answer always fits and a student's huge array is refused, not copied."""
    largest = SPEED_SIZES["speed-cell"]
    n, c, h, w = largest["x"]
    f, _, hh, ww = largest["w"]
    out = output_shape(largest["x"], largest["w"], largest["conv_param"])
    x_bytes, w_bytes, out_bytes = 8 * n * c * h * w, 8 * f * c * hh * ww, 8 * int(np.prod(out))
    request = x_bytes + w_bytes + 8 * f + out_bytes + 4096
    response = 2 * max(out_bytes, x_bytes + w_bytes + 8 * f) + 4096
    return request, response


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict[str, np.ndarray]:
    """The right answers, computed by the trusted reference inside the harness process."""
    from reference import strided

    out, cache = strided.conv_forward(case.x, case.w, case.b, case.conv_param)
    dx, dw, db = strided.conv_backward(case.dout, cache)
    return {"out": out, "dx": dx, "dw": dw, "db": db}


def reference_as_student() -> str:
    """A submission file that is the fast reference itself (reference/strided.py and the argument
    checks it uses), called from defs of the student's function names: ``convgrade doctor
    --timing`` grades it against the reference (A/A gradings) to measure the host's drift."""
    import inspect

    import reference.strided
    import reference.validate

    def body(module) -> str:
        lines = inspect.getsource(module).splitlines()
        return "\n".join(line for line in lines
                         if line != "from __future__ import annotations" and not line.startswith("from .validate import"))

    forward, backward = STUDENT_FUNCTIONS["forward"], STUDENT_FUNCTIONS["backward"]
    return "\n\n".join([
        '"""The fast reference graded against itself (convgrade doctor --timing): its own source."""',
        "from __future__ import annotations",
        body(reference.validate),
        body(reference.strided),
        # The loader looks for top-level defs: a wrapper each (a Python call, ~0.1 us, on a ~2 ms call).
        f"def {forward}(x, w, b, conv_param):\n    return conv_forward(x, w, b, conv_param)",
        f"def {backward}(dout, cache):\n    return conv_backward(dout, cache)\n",
    ])
