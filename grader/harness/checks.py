"""Checks of one returned value against the expected array, in a fixed order:
returned something, type, shape, dtype, finite, values. The first failure is the
message, written so that a student can act on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .call_outcome import Returned

# Errors between the tolerance and this bound, with every element close, are what
# computing in float32 (or casting to it on the way) gives.
FLOAT32_LIKE_ERROR = 1e-3
FLOAT32_HINT = ". The values are right to about 1e-5: this looks like float32 precision; compute in float64"
FIRST_INDICES = 3
# Elements per step of the whole-array checks (256 KiB of float64): their temporaries stay
# in the core's cache. The timed trials' output checks run between timed calls on the same
# core, and whole-array temporaries (seven of 5 MB for the speed cell's output) pushed the
# workers' memory out of cache: 3-5% on the reference's forward, measured in alternating
# runs of gradings before and after.
CHUNK = 1 << 15


def _chunks(*arrays: np.ndarray):
    """Matching flat slices of same-shaped arrays, CHUNK elements at a time."""
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, CHUNK):
        yield [a[start : start + CHUNK] for a in flat]


def all_finite(x: np.ndarray) -> bool:
    return all(np.isfinite(part).all() for (part,) in _chunks(x))


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """The notebook's relative error: max(|x - y| / max(1e-8, |x| + |y|)), of two arrays
    of the same shape (a NaN anywhere gives NaN, as np.max does)."""
    worst = [np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))) for a, b in _chunks(x, y)]
    return float(np.max(worst)) if worst else 0.0


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    rel_error: float | None = None


def _indices(mask: np.ndarray) -> str:
    found = np.argwhere(mask)[:FIRST_INDICES]
    return ", ".join(str(tuple(int(i) for i in index)) for index in found)


def not_an_array(label: str, returned: Returned, where: str, scalar: bool = False) -> str:
    """Why a returned value is no float array the harness can read, or '' when it is one
    (the first checks of ``compare``, shared with checks by property, which have no
    expected array). ``scalar``: the answer is a number (a loss), which may be any float."""
    if returned.kind == "none":
        return f"{label} is None {where}: is the function finished and does it return {label}?"
    if returned.kind != "array":
        return f"{label} is a {returned.type_name}, expected {'a float' if scalar else 'a numpy.ndarray'} {where}"
    if returned.array is None:
        return f"{label} could not be transferred ({returned.dtype_name}, shape {returned.shape})"
    return ""


def compare(label: str, returned: Returned, expected: np.ndarray, tolerance: float, where: str) -> Verdict:
    """Judge one output. ``where`` describes the case, e.g. 'at pad 0, stride 1 (x (2, 3, 7, 7), ...)'."""
    if returned.kind != "array":
        return Verdict(False, not_an_array(label, returned, where, scalar=expected.ndim == 0))
    if returned.shape != expected.shape:
        return Verdict(False, f"{label} has shape {returned.shape}, expected {expected.shape} {where}")
    if returned.dtype_name != expected.dtype.name:
        return Verdict(False, f"{label} has dtype {returned.dtype_name}, expected {expected.dtype.name} {where}")
    if returned.array is None:  # a float array that did not fit: cannot happen for a right-shaped one
        return Verdict(False, f"{label} could not be transferred ({returned.dtype_name}, shape {returned.shape})")
    got = returned.array
    if not all_finite(got):
        not_finite = ~np.isfinite(got)
        nans = int(np.isnan(got).sum())
        return Verdict(False, f"{label} has {nans} NaN and {int(not_finite.sum()) - nans} infinite values "
                              f"{where}, first at {_indices(not_finite)}")
    error = rel_error(got, expected)
    if error <= tolerance:
        return Verdict(True, f"{label}: rel_error {error:.2e} (tolerance {tolerance:.0e})", error)
    elementwise = np.abs(got - expected) / np.maximum(1e-8, np.abs(got) + np.abs(expected))
    wrong = elementwise > tolerance
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    message = (
        f"{label} is wrong {where}: rel_error {error:.2e} > tolerance {tolerance:.0e}; "
        f"{int(wrong.sum())} of {got.size} elements differ, first at {_indices(wrong)} "
        f"(got {got[first]:.6g}, expected {expected[first]:.6g}); "
        f"max abs difference {float(np.max(np.abs(got - expected))):.3g}"
    )
    if error <= FLOAT32_LIKE_ERROR:
        message += FLOAT32_HINT
    return Verdict(False, message, error)
