"""What the two CS231n loss packs (cs231n-svm-loss, cs231n-softmax-loss) share: one call,
``loss(x, y) -> (loss, dx)``, graded on the notebook's case and on hidden cases; the
cases, the check plan, the sizes and the notes that name the bugs both losses see.

A loss is not a forward/backward pair: one call returns the scalar loss and its
gradient at once, so the check plan's cases (``plan_cases``, for layer.bound_checks) are
one notebook case that grades both results and hidden cases that do the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layer

CALL = layer.Call("loss", results=("loss", "dx"))
INPUT_NAMES = "x or y"
STAND_INS: dict[str, str] = {}  # nothing is kept between calls: a loss is one call
PARAM_NAME = None  # no plain-value argument: x and y are both arrays the harness compares itself
# Computed answers differ from the reference by rounding only (about 1e-15 relative):
# 1e-7 still passes a float64 answer summed in another order and fails a float32 one.
TOLERANCE = 1e-7


@dataclass
class Case:
    id: str
    group: str  # "notebook" | "hidden" | "speed"
    x: np.ndarray
    y: np.ndarray
    graded: tuple[str, ...] = ("loss",)
    calls: tuple[str, ...] = ("loss",)

    @property
    def where(self) -> str:
        center = float(np.median(self.x)) if self.x.size else 0.0
        near = f", scores near {round(center, -2):.0f}" if abs(center) >= 100 else ""  # where exp overflows
        return f"for x of shape {self.x.shape}{near}"

    def arguments(self, call: str, kept: dict[str, str]) -> tuple[list[dict], dict[str, np.ndarray]]:
        return [{"array": "x"}, {"array": "y"}], {"x": self.x, "y": self.y}


def plan_cases(hidden_count: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(case id, rubric case group, graded calls), in the order a grading runs them."""
    return [("notebook", "notebook", ("loss",))] + [(f"hidden-{i + 1}", "hidden", ("loss",))
                                                     for i in range(hidden_count)]


def notebook_case() -> Case:
    """The FullyConnectedNets notebook's loss cell: np.random.seed(231), then
    x = 0.001 * randn(50, 10) and y = randint(10, size=50), both losses on the same x, y."""
    rng = np.random.RandomState(231)
    x = 0.001 * rng.randn(50, 10)
    y = rng.randint(10, size=50)
    return Case("notebook", "notebook", x, y.astype(np.int64))


def hidden_cases(shapes: list[tuple[int, int, float, float]], seed: int, count: int) -> list[Case]:
    """``shapes``: (N, C, center, spread) per case, cycled; scores are center + spread * randn."""
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        n, c, center, spread = shapes[index % len(shapes)]
        x = center + spread * rng.standard_normal((n, c))
        y = rng.integers(0, c, size=n, dtype=np.int64)
        cases.append(Case(f"hidden-{index + 1}", "hidden", x, y))
    return cases


def speed_case(sizes: dict, rng: np.random.Generator, trial: int, size: str) -> Case:
    """Fresh scores of unit spread at the timed size, one set per timed trial."""
    n, c = sizes[size]["x"]
    return Case(f"speed-{trial}", "speed", rng.standard_normal((n, c)), rng.integers(0, c, size=n, dtype=np.int64))


def arena_sizes(sizes: dict) -> tuple[int, int]:
    """(request, response) bytes: x and y of the largest size in; the loss and dx, twice, out."""
    n, c = max((shape["x"] for shape in sizes.values()), key=lambda s: s[0] * s[1])
    x_bytes, y_bytes = 8 * n * c, 8 * n
    return x_bytes + y_bytes + 4096, 2 * (x_bytes + 64) + 4096


def scaled_note(case: Case, label: str, got: np.ndarray | None, expected: np.ndarray) -> str:
    """The averaging bugs: the loss or dx exactly N times the right one (summed, not averaged)."""
    n = case.x.shape[0]
    if got is None or n < 2 or got.shape != expected.shape or not np.all(np.isfinite(got)):
        return ""
    if not np.allclose(got, n * expected, rtol=1e-9, atol=1e-12):
        return ""
    if label == "loss":
        return f". The loss is exactly N = {n} times the right one: average it over the N samples (divide the sum by N)"
    return (f". dx is exactly N = {n} times the right one: the loss is an average over the N samples, "
            "so its gradient is divided by N too")

