"""The dropout pack's property checks (cs231n_dropout.property_checks): each takes the
case and what the student's calls gave (harness/properties.CallOutput) and returns
(passed, message). Every message starts with the property's name; a failure that is
exactly a known bug names the bug (p's other meaning, no inverted scaling, 1 / (1 - p),
a randn mask, an ignored seed or mask).

Pure numpy: unit-tested without a sandbox (tests/unit/harness/test_dropout_properties.py).
"""

from __future__ import annotations

import math

import numpy as np

from . import cs231n_dropout as pack

FIRST = 3  # element indices shown in a message


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The notebook's relative error, per element."""
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.size == 0 or float(np.max(_rel(a, b))) <= pack.EXACT


def _indices(mask: np.ndarray) -> str:
    return ", ".join(str(tuple(int(i) for i in index)) for index in np.argwhere(mask)[:FIRST])


def _divisor() -> str:
    """The keep probability, written in p under this pack's meaning."""
    return "p" if pack.P_MEANING == "keep" else "(1 - p)"


def _other_divisor() -> str:
    return "(1 - p)" if pack.P_MEANING == "keep" else "p"


def _meaning_sentence() -> str:
    """What a solution that reads p the other way is told."""
    meaning, other = pack.P_MEANING, pack.OTHER_MEANING[pack.P_MEANING]
    return (f"this is p read as the probability of {_GERUND[other]} a unit (the course's meaning "
            f"{pack.MEANING_YEARS[other]}); in this course p is the probability of {_GERUND[meaning]} it (the "
            f"meaning {pack.MEANING_YEARS[meaning]}): keep a unit with probability {_divisor()} "
            f"(np.random.rand(*x.shape) < {_divisor()}) and divide the kept units by {_divisor()}")


_GERUND = {"keep": "KEEPING", "drop": "DROPPING"}


def _array(output, label: str, shape: tuple[int, ...], where: str, what: str) -> tuple[np.ndarray | None, str]:
    """The output's ``label`` if it is a finite array of ``shape``; else (None, why not)."""
    got, problem = output.array(label)
    if got is None:
        return None, problem
    if got.shape != shape:
        return None, f"{label} has shape {got.shape}, expected {what}'s shape {shape} {where}"
    if not np.isfinite(got).all():
        return None, f"{label} has {int((~np.isfinite(got)).sum())} NaN or infinite values {where}"
    return got, ""


# A right dropout output both keeps and drops units: all kept, or all dropped, has probability
# keep**n or (1 - keep)**n, below this wherever the checks rely on it (the smallest case: 100
# units at keep 0.2, 2e-10). Outputs that do neither are no mask at all, and two of them agree
# with each other and with a backward that does the same (zeros everywhere; x / keep everywhere).
DEGENERATE_CHANCE = 1e-6


def degenerate(case, out: np.ndarray) -> str:
    """Why ``out`` cannot be a dropout mask's output (no unit kept, or none dropped), or ''."""
    keep, n = case.keep, out.size
    kept = int(np.count_nonzero(out))
    if kept == 0 and (1 - keep) ** n < DEGENERATE_CHANCE:
        return f"out keeps no unit at all {case.where} (a right mask keeps about {keep:.0%})"
    if kept == n and keep < 1 and keep ** n < DEGENERATE_CHANCE:
        return f"out drops no unit at all {case.where} (a right mask drops about {1 - keep:.0%})"
    return ""


def same_seed(case, first, second) -> tuple[bool, str]:
    a, problem = _array(first, "out", case.x.shape, case.where, "x")
    b, problem_b = _array(second, "out", case.x.shape, case.where, "x") if a is not None else (None, "")
    if a is None or b is None:
        return False, f"same seed: not checked, {problem or problem_b}"
    seed = case.dropout_param["seed"]
    if degenerate(case, a):
        return False, f"same seed: not checked, {degenerate(case, a)}: no mask to repeat"
    if np.array_equal(a, b):
        return True, f"same seed: two train calls with seed {seed} gave the same out ({a.size} elements)"
    differ = int((a != b).sum())
    return False, (f"same seed: two train calls with dropout_param['seed'] = {seed} gave different outputs "
                   f"{case.where}: {differ} of {a.size} elements differ, first at {_indices(a != b)}. The seed is ignored: "
                   f"when "
                   f"'seed' is given, call np.random.seed(dropout_param['seed']) and draw the mask from np.random "
                   f"(as the template does); a generator of your own, such as np.random.default_rng(), never sees it")


def zero_or_scaled(case, first) -> tuple[bool, str]:
    out, problem = _array(first, "out", case.x.shape, case.where, "x")
    if out is None:
        return False, f"zero or scaled: not checked, {problem}"
    kept = out != 0
    if not kept.any():
        return False, f"zero or scaled: every element of out is 0 {case.where}: no unit was kept"
    x, keep = case.x[kept], case.keep
    got = out[kept]
    if _close(got, x / keep):
        return True, f"zero or scaled: every element of out is 0 or x / {_divisor()} ({int(kept.sum())} kept)"
    if _close(got, x):
        return False, (f"zero or scaled: the kept units of out equal x {case.where}: dropout without inverted scaling. "
                       f"Divide the kept units by {_divisor()} in train mode, so that the expected output is x and "
                       f"test mode returns x unchanged")
    if keep < 1 and _close(got, x / (1 - keep)):
        fraction = float(kept.mean())
        if abs(fraction - (1 - keep)) <= _fraction_tolerance(keep, out.size):
            return False, (f"zero or scaled: the kept units of out are x / {_other_divisor()}, and about "
                           f"{fraction:.0%} of the units are kept {case.where}: {_meaning_sentence()}")
        return False, (f"zero or scaled: the kept units of out are x / {_other_divisor()}, expected x / {_divisor()} "
                       f"{case.where}: inverted dropout divides the kept units by the probability of keeping one, "
                       f"{_divisor()}, not by the probability of dropping it")
    wrong = np.zeros(out.shape, dtype=bool)
    wrong[kept] = _rel(got, x / keep) > pack.EXACT
    first_index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return False, (f"zero or scaled: {int(wrong.sum())} of {int(kept.sum())} non-zero elements of out are not "
                   f"x / {_divisor()} {case.where}, first at {_indices(wrong)} (got {out[first_index]:.6g}, expected "
                   f"0 or {case.x[first_index] / keep:.6g})")


def _fraction_tolerance(keep: float, n: int) -> float:
    """FRACTION_SIGMAS standard deviations of a Binomial(n, keep) fraction."""
    return pack.FRACTION_SIGMAS * math.sqrt(keep * (1 - keep) / n)


def _normal_cdf(value: float) -> float:
    return 0.5 * (1 + math.erf(value / math.sqrt(2)))


def kept_fraction(case, first) -> tuple[bool, str]:
    out, problem = _array(first, "out", case.x.shape, case.where, "x")
    if out is None:
        return False, f"kept fraction: not checked, {problem}"
    keep, n = case.keep, out.size
    fraction = float(np.count_nonzero(out)) / n
    tolerance = _fraction_tolerance(keep, n)
    if degenerate(case, out):  # on a small input the tolerance alone may reach 0 or 1
        return False, f"kept fraction: {fraction:.4f}: {degenerate(case, out)}"
    within = f"{keep:g} +/- {tolerance:.4f} ({pack.FRACTION_SIGMAS:g} binomial standard deviations over {n} units)"
    if abs(fraction - keep) <= tolerance:
        return True, f"kept fraction: {fraction:.4f} of the units kept, expected {within}"
    said = f"kept fraction: {fraction:.4f} of the units kept {case.where}, expected {within}"
    # The known bugs' shares; on a small input both may be within the tolerance: the nearer one is named.
    bugs = {
        1 - keep: _meaning_sentence(),
        _normal_cdf(keep): (f"a mask drawn with np.random.randn keeps this share (a normal value is below "
                            f"{keep:g} with probability {_normal_cdf(keep):.3f}); draw it with np.random.rand, "
                            f"uniform on [0, 1)"),
    }
    share = min(bugs, key=lambda s: abs(fraction - s))
    if abs(fraction - share) <= tolerance:
        return False, f"{said}: {bugs[share]}"
    return False, said


def test_returns_x(case, output) -> tuple[bool, str]:
    out, problem = _array(output, "out", case.x.shape, case.where, "x")
    if out is None:
        return False, f"test returns x: not checked, {problem}"
    x, keep = case.x, case.keep
    if _close(out, x):
        return True, "test returns x: out equals x"
    scaled = f"test returns x: out is x * {{}} {case.where}, expected x: with inverted dropout the scaling happens " \
             f"in train mode (the kept units divided by {_divisor()}), and test mode returns x unchanged"
    if _close(out, x * keep):
        return False, scaled.format(_divisor())
    if keep < 1 and _close(out, x * (1 - keep)):
        return False, scaled.format(_other_divisor())
    wrong = _rel(out, x) > pack.EXACT
    zeros = int(np.count_nonzero(out == 0))
    if zeros:
        return False, (f"test returns x: {zeros} of {out.size} elements of out are 0 {case.where}: test mode drops "
                       f"nothing, it returns x")
    first_index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return False, (f"test returns x: out differs from x in {int(wrong.sum())} of {out.size} elements {case.where}, "
                   f"first at {_indices(wrong)} (got {out[first_index]:.6g}, x is {x[first_index]:.6g})")


def backward_mask(case, forward, backward) -> tuple[bool, str]:
    """dx against dout * mask / keep, the mask where the forward whose cache the backward
    got (the case's latest) kept a unit; x holds no zeros, so out != 0 is that mask."""
    dx, problem = _array(backward, "dx", case.dout.shape, case.where, "dout")
    if dx is None:
        return False, f"backward mask: {problem}"
    if "cache" in backward.stood_in:
        # The forward kept no cache: the backward got the template-shaped stand-in, whose mask
        # (already divided by keep) the case drew; the backward is judged on that alone.
        if _close(dx, case.dout * case.stand_in_mask()):
            return True, "backward mask: dx = dout * mask with the grader's stand-in cache (your forward gave none)"
        return False, (f"backward mask: dx is not dout * mask {case.where}, with the grader's stand-in cache "
                       f"(dropout_param, mask), mask already divided by {_divisor()}{backward.note}")
    out, problem = _array(forward, "out", case.x.shape, case.where, "x")
    if out is None:
        return False, f"backward mask: not checked, the forward before it gave no usable out: {problem}"
    if degenerate(case, out):
        return False, f"backward mask: not checked, the forward before it gave no mask: {degenerate(case, out)}"
    mask, keep, dout = out != 0, case.keep, case.dout
    if _close(dx, dout * mask / keep):
        return True, f"backward mask: dx = dout * mask / {_divisor()}, with the mask of the forward whose cache it got"
    said = (f"backward mask: dx is {{}} {case.where}, expected dout * mask / {_divisor()} "
            f"(mask: the units the forward kept)")
    if _close(dx, dout):
        return False, said.format("dout") + (": the backward ignores the mask. Multiply dout by the mask the forward "
                                             "kept in its cache: the units it dropped get no gradient")
    if _close(dx, dout * mask):
        return False, said.format("dout * mask") + (f": the division by {_divisor()} is missing. The forward divides "
                                                    f"the kept units by {_divisor()} (inverted dropout), so does their "
                                                    f"gradient")
    if keep < 1 and _close(dx, dout * mask / (1 - keep)):
        # The forward's kept share tells p's other meaning from a divisor slip alone.
        other_meaning = abs(float(mask.mean()) - (1 - keep)) <= _fraction_tolerance(keep, mask.size)
        return False, said.format(f"dout * mask / {_other_divisor()}") + (
            f": {_meaning_sentence()}" if other_meaning else
            f": divide by the probability of keeping a unit, {_divisor()}, as the forward should")
    wrong_zeros = (dx != 0) != mask
    if wrong_zeros.any():
        return False, said.format("not zero exactly where the forward dropped units") + (
            f": {int(wrong_zeros.sum())} elements differ, first at {_indices(wrong_zeros)}. Use the mask from the "
            f"cache the backward is given, the one its forward drew")
    wrong = _rel(dx, dout * mask / keep) > pack.EXACT
    return False, said.format("wrong") + (f": {int(wrong.sum())} of {dx.size} elements differ, first at "
                                          f"{_indices(wrong)}")
