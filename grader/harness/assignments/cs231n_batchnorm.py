"""The CS231n batch-normalization pack: ``batchnorm_forward(x, gamma, beta, bn_param) ->
(out, cache)``, ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` and
``batchnorm_backward_alt(dout, cache)``, the same results by the simplified formula.

Facts relied on (CS231n assignment 2, ``cs231n/layers.py`` and BatchNormalization.ipynb;
the API is the same from 2016 to 2026, see the project's CS231N facts):

- x (N, D), gamma and beta (D,). bn_param holds 'mode' ('train' or 'test') and
  optionally 'eps' (default 1e-5), 'momentum' (0.9), 'running_mean' and 'running_var'
  (zeros of shape (D,) when absent). Train mode uses the batch mean and the biased
  variance and stores running = momentum * running + (1 - momentum) * batch back into
  the same dict; test mode normalises with the running statistics.
- Notebook, train forward: np.random.seed(231); N, D1, D2, D3 = 200, 50, 60, 3;
  X = randn(N, D1); W1 = randn(D1, D2); W2 = randn(D2, D3);
  a = np.maximum(0, X.dot(W1)).dot(W2); with gamma [1, 2, 3] and beta [11, 12, 13] the
  output's per-feature means are about beta and its stds about gamma.
- Notebook, test-time forward: the same seed, W1 and W2 drawn first, then 50 train
  calls on fresh X (randn(N, D1) each) sharing one bn_param = {'mode': 'train'}, then
  mode 'test' on one more X: means about 0, stds about 1 (gamma 1, beta 0).
- Notebook, gradient check: np.random.seed(231); N, D = 4, 5; x = 5 * randn(N, D) + 12;
  gamma = randn(D); beta = randn(D); dout = randn(N, D); bn_param = {'mode': 'train'};
  relative errors of 1e-13 to 1e-8 expected.
- Notebook, speed cell: np.random.seed(231); N, D = 100, 500, the same x, gamma, beta and
  dout draws; one call each of batchnorm_backward and batchnorm_backward_alt, printed as
  "Speedup: N.NNx".

A case's calls (the harness runs them in order, the dict carried from call to call):
two train-mode forwards (the second starts from the running statistics the first left in
bn_param), one test-mode forward (its output depends on those statistics), then the
backward and the alt backward, both with the first forward's cache. The running
statistics the train calls write into bn_param are checked like results (layer.Call.writes).

Timing: the notebook races batchnorm_backward_alt against batchnorm_backward. The
timing phase times every call of a case against ``REFERENCE_FUNCTIONS``, where the
alt's yardstick is the reference's graph backward, so the backward_alt row's speedup is
the notebook's "Speedup" figure (measured at the speed cell: a vectorised closed form
about 1.5x, a loop one below 1x). The other calls are timed too, against their own
reference; speed earns no points by default (``DEFAULT_RUBRIC``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import layer

NAME = "cs231n-batchnorm"
TITLE = "CS231n batch normalization"
SUBJECT = "batch normalization"
STUDENT_FUNCTIONS = {
    "forward_train": "batchnorm_forward",
    "forward_train_again": "batchnorm_forward",
    "forward_test": "batchnorm_forward",
    "backward": "batchnorm_backward",
    "backward_alt": "batchnorm_backward_alt",
}
# The notebook races the alt backward against the graph backward: the reference's graph
# backward is the alt's yardstick.
REFERENCE_FUNCTIONS = {
    "forward_train": "batchnorm_forward",
    "forward_train_again": "batchnorm_forward",
    "forward_test": "batchnorm_forward",
    "backward": "batchnorm_backward",
    "backward_alt": "batchnorm_backward",
}
PARAM_NAME = "bn_param"  # the dict argument: it goes back to the harness after every call (dict_args)
REFERENCE_ENTRY = "reference/batchnorm.py"
RUNNING = ("running_mean", "running_var")
CALLS = (
    layer.Call("forward_train", results=("out", "@cache"), writes=RUNNING),
    # '@': kept in the worker; only the first forward's cache is used (by both backwards).
    layer.Call("forward_train_again", results=("out", "@cache_again"), writes=RUNNING),
    layer.Call("forward_test", results=("out", "@cache_test")),
    layer.Call("backward", results=("dx", "dgamma", "dbeta"), needs=("cache",)),
    layer.Call("backward_alt", results=("dx", "dgamma", "dbeta"), needs=("cache",)),
)
FORWARDS = ("forward_train", "forward_train_again", "forward_test")  # the calls that take bn_param, in order
INPUT_NAMES = "x, gamma, beta, dout or bn_param's other entries"
STAND_INS = {"cache": "None"}
STARTER_TEMPLATE = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    elif mode == "test":
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
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
        "backward_notebook": 5,
        "backward_alt_notebook": 5,
        "forward_train_hidden": 15,
        "forward_train_again_hidden": 10,
        "forward_test_hidden": 15,
        "backward_hidden": 10,
        "backward_alt_hidden": 10,
        "inputs_unchanged": 10,
    },
    # Right code differs from the reference by rounding only (about 1e-13); eps stored in
    # the running variance differs by eps / var, 1e-7 or more on the cases below.
    "tolerance": 1e-7,
    "speed": {"enabled": False, "points": 0, "thresholds": []},
}

ALL_CALLS = tuple(call.name for call in CALLS)


@dataclass
class Case:
    """One case's inputs; the class names the reference functions it is answered with (the
    spatial pack's subclass names the spatial ones)."""

    FORWARD = "batchnorm_forward"
    BACKWARD = "batchnorm_backward"
    FORWARD_BUG = "batchnorm_forward_bug"

    id: str
    group: str  # "notebook" | "hidden" | "speed"
    xs: tuple[np.ndarray, np.ndarray, np.ndarray]  # the batches of the two train calls and the test call
    gamma: np.ndarray
    beta: np.ndarray
    dout: np.ndarray
    bn_param: dict  # what the first call's bn_param holds besides 'mode' (eps, momentum, running statistics)
    graded: tuple[str, ...] = ALL_CALLS
    calls: tuple[str, ...] = ALL_CALLS
    _states: list = field(default=None, repr=False)

    @property
    def where(self) -> str:
        given = [f"{key} {self.bn_param[key]:g}" for key in ("eps", "momentum") if key in self.bn_param]
        start = "given running statistics" if "running_mean" in self.bn_param else "no running statistics"
        return f"at x {self.xs[0].shape} ({', '.join(given + [start])} in bn_param)"

    def states(self) -> list[dict]:
        """bn_param before each forward call, as the reference leaves it: the expected
        answers' chain. The student's later calls never get these running statistics:
        from the first call on the harness sends the first state's, then what the
        student's own calls left (dict_args)."""
        if self._states is None:
            from reference import batchnorm

            forward = getattr(batchnorm, self.FORWARD)
            param, self._states = _copy(self.bn_param), []
            for mode, x in zip(("train", "train", "test"), self.xs):
                param["mode"] = mode
                self._states.append(_copy(param))
                forward(x, self.gamma, self.beta, param)
        return self._states

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        if call.startswith("forward"):
            step = FORWARDS.index(call)
            param = self.states()[step]
            values = {key: value for key, value in param.items() if not isinstance(value, np.ndarray)}
            arrays = {key: f"bn_param[{key}]" for key, value in param.items() if isinstance(value, np.ndarray)}
            inputs = {"x": self.xs[step], "gamma": self.gamma, "beta": self.beta}
            inputs.update({name: param[key] for key, name in arrays.items()})
            spec = {"dict": {"values": values, "arrays": arrays}}
            return [{"array": "x"}, {"array": "gamma"}, {"array": "beta"}, spec], inputs
        cache = {"kept": kept["cache"]} if "cache" in kept else {"value": None}
        return [{"array": "dout"}, cache], {"dout": self.dout}


def _copy(param: dict) -> dict:
    return {key: value.copy() if isinstance(value, np.ndarray) else value for key, value in param.items()}


NOTEBOOK_GRADED = {
    "notebook-train": ("forward_train",),
    "notebook-test": ("forward_train", "forward_train_again", "forward_test"),
    "notebook-backward": ("backward", "backward_alt"),
}


def plan_cases(hidden_count: int, notebook_graded: dict[str, tuple[str, ...]] = NOTEBOOK_GRADED,
               all_calls: tuple[str, ...] = ALL_CALLS) -> list[tuple[str, str, tuple[str, ...]]]:
    """(case id, rubric case group, graded calls) of every case, in the order they run."""
    cases = [(case_id, "notebook", graded) for case_id, graded in notebook_graded.items()]
    return cases + [(f"hidden-{i + 1}", "hidden", all_calls) for i in range(hidden_count)]


INPUTS_CHECK = layer.inputs_check(NAME, STUDENT_FUNCTIONS)
# The inputs check earns its points only when some call answered right.
PROPERTY_GROUPS = layer.property_groups(CALLS)


def role_named_checks(identity, plan):
    """``layer.bound_checks``' two functions with the call's role in each check's name
    ("batchnorm_forward out (forward test), hidden 2 case"): three calls of a case run
    the same function, and the name is what a student reads first."""
    def renamed(check: dict[str, str]) -> dict[str, str]:
        if check["call"] == "all":
            return check
        function, rest = check["name"].split(" ", 1)
        label, case = rest.split(", ", 1)
        return {**check, "name": f"{function} {label} ({check['call'].replace('_', ' ')}), {case}"}

    def named_identity(case_id: str, case_group: str, call: str, label: str) -> dict[str, str]:
        return renamed(identity(case_id, case_group, call, label))

    def named_plan(hidden_count: int) -> list[dict[str, str]]:
        return [renamed(check) for check in plan(hidden_count)]

    return named_identity, named_plan


check_identity, check_plan = role_named_checks(*layer.bound_checks(NAME, STUDENT_FUNCTIONS, CALLS, plan_cases))


def _notebook_activations(rng, w1, w2, n):
    return np.maximum(0, rng.randn(n, w1.shape[0]).dot(w1)).dot(w2)


def notebook_cases() -> list[Case]:
    n, d1, d2, d3 = 200, 50, 60, 3
    rng = np.random.RandomState(231)  # the notebook's np.random.seed(231), then its draws in order
    x = rng.randn(n, d1)
    a = np.maximum(0, x.dot(rng.randn(d1, d2))).dot(rng.randn(d2, d3))
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    train = Case("notebook-train", "notebook", (a, a, a), gamma, beta, np.ones_like(a), {},
                 graded=NOTEBOOK_GRADED["notebook-train"], calls=("forward_train",))

    # The test-time cell: its first 48 train calls are the reference's (their statistics
    # are the starting bn_param), its 49th and 50th the student's, then the test call.
    from reference import batchnorm

    rng = np.random.RandomState(231)
    w1, w2 = rng.randn(d1, d2), rng.randn(d2, d3)
    ones, zeros = np.ones(d3), np.zeros(d3)
    param = {"mode": "train"}
    for _ in range(48):
        batchnorm.batchnorm_forward(_notebook_activations(rng, w1, w2, n), ones, zeros, param)
    xs = tuple(_notebook_activations(rng, w1, w2, n) for _ in range(3))
    started = {key: param[key] for key in RUNNING}
    test = Case("notebook-test", "notebook", xs, ones, zeros, np.ones_like(xs[0]), started,
                graded=NOTEBOOK_GRADED["notebook-test"], calls=("forward_train", "forward_train_again", "forward_test"))

    rng = np.random.RandomState(231)
    x = 5 * rng.randn(4, 5) + 12
    gamma, beta, dout = rng.randn(5), rng.randn(5), rng.randn(4, 5)
    backward = Case("notebook-backward", "notebook", (x, x, x), gamma, beta, dout, {},
                    graded=NOTEBOOK_GRADED["notebook-backward"], calls=("forward_train", "backward", "backward_alt"))
    return [train, test, backward]


# (N, D, scale, offset, eps, momentum, running statistics given?): each catches real bugs.
# Few samples (N 3 to 6) make the unbiased variance N/(N-1) times the biased one; a
# small scale makes eps a visible part of var + eps (stored in running_var); momentum
# away from 0.5 and given statistics tell momentum * running from (1 - momentum) *
# running, and a running mean never written back from one that was; eps and momentum
# passed in bn_param catch hard-coded defaults; N < D catches axis mix-ups.
HIDDEN_SHAPES = [
    (4, 5, 5.0, 12.0, None, None, False),
    (6, 3, 0.01, 0.0, None, None, False),
    (8, 7, 1.0, -2.0, 0.1, 0.8, True),
    (3, 10, 1.0, 1.0, None, None, True),
    (16, 4, 0.05, 3.0, 1e-3, 0.95, True),
    (32, 6, 2.0, 0.0, None, 0.7, False),
]


def hidden_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng([seed, 26])
    cases = []
    for index in range(count):
        n, d, scale, offset, eps, momentum, given = HIDDEN_SHAPES[index % len(HIDDEN_SHAPES)]
        xs = tuple(scale * rng.standard_normal((n, d)) + offset + rng.standard_normal(d) * scale for _ in range(3))
        param: dict = {}
        if eps is not None:
            param["eps"] = eps
        if momentum is not None:
            param["momentum"] = momentum
        if given:
            param["running_mean"] = offset + scale * rng.standard_normal(d)
            param["running_var"] = scale**2 * rng.uniform(0.5, 2.0, d)
        gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
        cases.append(Case(f"hidden-{index + 1}", "hidden", xs, gamma, beta, rng.standard_normal((n, d)), param))
    return cases


def published_note(case_id: str, out: np.ndarray) -> str:
    """The notebook's own read-out of a right forward: per-feature means and stds."""
    if case_id not in ("notebook-train", "notebook-test") or out is None or out.shape != (200, 3):
        return ""
    expected = "about beta [11, 12, 13] and gamma [1, 2, 3]" if case_id == "notebook-train" else "about 0 and 1"
    return f"; per-feature means [{two_places(out.mean(axis=0))}], stds [{two_places(out.std(axis=0))}] " \
           f"(the notebook expects {expected})"


def two_places(values: np.ndarray) -> str:
    """Values as the notebook prints them, to two places; round() then + 0.0 so that a mean of
    -1e-17 (rounding noise, its sign run-dependent) reads 0.00, never -0.00."""
    return ", ".join(f"{round(float(v), 2) + 0.0:.2f}" for v in values)


BUG_NOTES = {
    "stored_eps": ("The running variance holds the batch variance plus eps: store the variance itself, and add eps only "
                   "where you divide (train and test mode)"),
    "unbiased_variance": ("This is the unbiased variance (dividing by N - 1, ddof=1): batch normalization uses the "
                          "biased one, x.var(axis=0), which divides by N"),
    "swapped_momentum": ("The momentum is applied the wrong way round: running = momentum * running + "
                         "(1 - momentum) * the batch's statistic"),
    "not_written_back": ("The running statistics in bn_param came back as they went in: compute the new running mean "
                         "and variance and store them in bn_param['running_mean'] and bn_param['running_var']"),
}


def _bug_values(case: Case, bug: str) -> list[tuple[str, str, np.ndarray]]:
    """(call, label, value) of every forward's out and written statistics with ``bug``,
    the bug's bn_param carried from call to call as a student's is."""
    from reference import batchnorm

    param, found = _copy(case.bn_param), []
    for call, mode, x in zip(FORWARDS, ("train", "train", "test"), case.xs):
        param["mode"] = mode
        out, _ = getattr(batchnorm, case.FORWARD_BUG)(bug, x, case.gamma, case.beta, param)
        found.append((call, "out", out))
        if mode == "train":
            found += [(call, key, param[key]) for key in RUNNING if key in param]
    return found


def wrong_answer_note(case: Case, label: str, got: np.ndarray | None, notes: dict[str, str] = BUG_NOTES) -> str:
    """A sentence naming the bug when a wrong output or written statistic is exactly
    what one of the known bugs (``notes``' keys) gives at some call of the case."""
    if got is None or label not in ("out", *RUNNING):
        return ""
    right = expected_outputs(case)
    for bug, note in notes.items():
        for call, bug_label, value in _bug_values(case, bug):
            # Only where the bug changes the answer (a stored eps leaves the running mean right).
            if bug_label == label and value.shape == got.shape and not layer.is_exactly(value, right[(call, label)]) \
                    and layer.is_exactly(got, value):
                return f". {note}"
    return ""



# The timed sizes: the notebook's speed cell (N, D = 100, 500) and a small one.
SPEED_SIZES = {"speed-cell": {"x": (100, 500)}, "small": {"x": (16, 20)}}


def speed_case_name(size: str) -> str:
    suffix = " (the notebook's speed cell)" if size == "speed-cell" else " (a small development size)"
    return f"x {SPEED_SIZES[size]['x']}{suffix}"


def speed_case(rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh inputs at the timed size (the notebook's draws: x = 5 * randn + 12, gamma, beta
    and dout randn), one set per timed trial; the case runs every call, so the alt
    backward is timed against the reference's graph backward (REFERENCE_FUNCTIONS)."""
    n, d = SPEED_SIZES[size]["x"]
    xs = tuple(5 * rng.standard_normal((n, d)) + 12 for _ in range(3))
    return Case(f"speed-{trial}", "speed", xs, rng.standard_normal(d), rng.standard_normal(d),
                rng.standard_normal((n, d)), {})


def timed_flops(function: str, size: str) -> int:
    """Floating-point operations of one call, counted from the closed forms: a train forward
    about 10 per element (mean, centring, square, sum, scale, shift, the statistics' update
    per feature aside), a backward about 10 per element (two reductions, the combination)."""
    n, d = SPEED_SIZES[size]["x"]
    return 10 * n * d


def same_shape_gemm(size: str) -> tuple[int, int, int]:
    """(M, K, F): a product that reads x once per feature column (M = N, K = D, F = 1)."""
    n, d = SPEED_SIZES[size]["x"]
    return n, d, 1


def arena_sizes() -> tuple[int, int]:
    """(request, response) bytes at the speed cell. Requests stack up (a forward whose cache
    is kept keeps its inputs in place): three forwards' x, gamma, beta and two running
    statistics, then dout. A response holds one call's results and its bn_param's
    statistics; twice that leaves room for a student's float32 or extra copies."""
    n, d = SPEED_SIZES["speed-cell"]["x"]
    x_bytes, row_bytes = 8 * n * d, 8 * d
    return 4 * x_bytes + 12 * row_bytes + 8192, 2 * (3 * x_bytes + 4 * row_bytes) + 8192


def worker_address_space_bytes(limits: dict) -> int:
    return layer.worker_address_space_bytes(arena_sizes(), limits)


def expected_outputs(case: Case) -> dict:
    """The right answers by (call, label): each forward's out and written statistics (the
    reference's bn_param carried from call to call), both backwards' gradients from the
    first forward's cache."""
    from reference import batchnorm

    expected: dict = {}
    states = case.states()
    cache = None
    for call, state, x in zip(FORWARDS, states, case.xs):
        param = _copy(state)
        out, made = getattr(batchnorm, case.FORWARD)(x, case.gamma, case.beta, param)
        cache = made if cache is None else cache
        expected[(call, "out")] = out
        for key in RUNNING:
            expected[(call, key)] = param[key]
    dx, dgamma, dbeta = getattr(batchnorm, case.BACKWARD)(case.dout, cache)
    for call in ("backward", "backward_alt"):
        expected.update({(call, "dx"): dx, (call, "dgamma"): dgamma, (call, "dbeta"): dbeta})
    # The timing phase matches outputs by label alone: the speed case's race is the backward's.
    expected.update({"out": expected[("forward_train", "out")], "dx": dx, "dgamma": dgamma, "dbeta": dbeta})
    return expected
