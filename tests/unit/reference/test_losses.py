"""The loss references (reference/losses.py) against numerical gradients and their own
loops, the notebook's numbers, and the loss packs' notes on the exact bugs they name.

Numerical gradients: the SVM loss is piecewise linear, so centred differences are exact
away from a kink (h stays below every margin's distance from 0) and rounding is all that
is left. The softmax loss is smooth, but its gradient spans many orders of magnitude at a
wide spread (1e-13 beside 0.06), below what finite differences resolve against the
rel_error floor of 1e-8; the complex step (Im f(x + ih) / h, no subtraction, so no
cancellation) gives every element to rounding, and the notebook's own centred differences
are checked on the notebook's case.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_softmax_loss, cs231n_svm_loss, loss_layer
from grader.harness.checks import rel_error
from reference import losses

PACKS = {"svm": (cs231n_svm_loss, losses.svm_loss, losses.svm_loss_loops),
         "softmax": (cs231n_softmax_loss, losses.softmax_loss, losses.softmax_loss_loops)}


def centred_dx(loss, x, y, h):
    """The notebook's numerical gradient: centred differences of the loss, one element at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (float(loss(plus, y)[0]) - float(loss(minus, y)[0])) / (2 * h)
    return grad


def complex_step_dx(loss, x, y, h=1e-30):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        stepped = x.astype(complex)
        stepped[index] += 1j * h
        grad[index] = np.imag(loss(stepped, y)[0]) / h
    return grad


def cases(pack):
    return pack.notebook_cases() + pack.hidden_cases(5, len(pack.HIDDEN_SHAPES))


@pytest.mark.parametrize("kind", PACKS)
def test_references_match_numerical_gradients_and_their_loops(kind):
    """rel_error <= 1e-8 against the numerical gradient on every case, scores near +-1000
    included; the vectorised and loop references agree to rounding."""
    pack, fast, loops = PACKS[kind]
    for case in cases(pack):
        x_before, y_before = case.x.copy(), case.y.copy()
        loss, dx = fast(case.x, case.y)
        assert np.array_equal(case.x, x_before) and np.array_equal(case.y, y_before), "a reference changed its inputs"
        assert loss.shape == () and loss.dtype == np.float64 and dx.shape == case.x.shape and np.isfinite(dx).all()
        loop_loss, loop_dx = loops(case.x, case.y)
        assert rel_error(loss, loop_loss) <= 1e-12 and rel_error(dx, loop_dx) <= 1e-12, case.where
        if kind == "svm":
            margins = case.x - case.x[np.arange(len(case.y)), case.y][:, None] + 1
            h = min(1e-3, float(np.abs(margins).min()) / 4)  # no kink crossed
            numerical = centred_dx(fast, case.x, case.y, h)
        else:
            numerical = complex_step_dx(fast, case.x, case.y)
        assert rel_error(dx, numerical) <= 1e-8, f"{kind} {case.where}: {rel_error(dx, numerical):.2e}"


def test_notebook_case_gives_the_notebook_numbers():
    """np.random.seed(231) then the notebook's draws: svm "around 9", softmax "close to 2.3",
    and the notebook's own gradient check (centred differences, h = 1e-5) at "around the
    order of e-9" and "around e-8"."""
    case = loss_layer.notebook_case()
    assert case.x.shape == (50, 10) and case.y.shape == (50,) and case.y.dtype == np.int64
    assert abs(float(losses.svm_loss(case.x, case.y)[0]) - 9) < 0.05
    assert abs(float(losses.softmax_loss(case.x, case.y)[0]) - np.log(10)) < 0.01
    for fast in (losses.svm_loss, losses.softmax_loss):
        error = rel_error(fast(case.x, case.y)[1], centred_dx(fast, case.x, case.y, 1e-5))
        assert error <= 1e-8, f"{fast.__name__}: {error:.2e}"


def test_softmax_is_shift_invariant_where_exp_of_the_raw_scores_overflows():
    """Scores near +-1000 give the loss of the same scores near 0, finite."""
    rng = np.random.default_rng(3)
    x, y = 3 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    loss, dx = losses.softmax_loss(x, y)
    for shift in (1000.0, -1000.0):
        shifted_loss, shifted_dx = losses.softmax_loss(x + shift, y)
        assert rel_error(shifted_loss, loss) < 1e-12 and rel_error(shifted_dx, dx) < 1e-9


def test_hidden_cases_reach_what_the_bugs_need():
    """Some SVM margins are negative (a hidden case tells a mask from none), and the
    softmax cases put scores beyond exp's float64 range on both sides."""
    svm = cs231n_svm_loss.hidden_cases(9, len(cs231n_svm_loss.HIDDEN_SHAPES))
    assert any((c.x - c.x[np.arange(len(c.y)), c.y][:, None] + 1 < 0).any() for c in svm)
    softmax = cs231n_softmax_loss.hidden_cases(9, len(cs231n_softmax_loss.HIDDEN_SHAPES))
    assert any(c.x.min() > cs231n_softmax_loss.EXP_OVERFLOWS for c in softmax)
    assert any(c.x.max() < -cs231n_softmax_loss.EXP_OVERFLOWS for c in softmax)
    assert any(c.x.shape[0] == 1 for c in svm + softmax)


def test_svm_note_names_the_correct_class_margin_only_when_the_loss_is_one_too_large():
    case = cs231n_svm_loss.hidden_cases(2, 1)[0]
    loss, dx = losses.svm_loss(case.x, case.y)
    note = cs231n_svm_loss.wrong_answer_note(case, "loss", loss + 1.0)
    assert "exactly 1 too large" in note and "correct class" in note
    assert cs231n_svm_loss.wrong_answer_note(case, "loss", loss + 0.5) == ""
    assert cs231n_svm_loss.wrong_answer_note(case, "dx", dx + 1.0) == ""


@pytest.mark.parametrize("kind", PACKS)
def test_notes_name_a_sum_instead_of_a_mean(kind):
    pack, fast, _ = PACKS[kind]
    case = pack.hidden_cases(4, 1)[0]
    loss, dx = fast(case.x, case.y)
    n = case.x.shape[0]
    assert f"exactly N = {n} times" in pack.wrong_answer_note(case, "loss", n * loss)
    assert "divided by N too" in pack.wrong_answer_note(case, "dx", n * dx)
    assert pack.wrong_answer_note(case, "dx", 2.5 * dx) == ""


def test_softmax_note_says_to_subtract_the_row_max_on_overflow_only():
    shapes = cs231n_softmax_loss.HIDDEN_SHAPES
    cases_ = cs231n_softmax_loss.hidden_cases(6, len(shapes))
    large = next(c for c in cases_ if c.x.min() > cs231n_softmax_loss.EXP_OVERFLOWS)
    small = cases_[0]
    with np.errstate(all="ignore"):  # what the bug computes: exp of the raw scores
        probs = np.exp(large.x) / np.exp(large.x).sum(axis=1, keepdims=True)
    assert not np.isfinite(probs).all()
    assert "subtract each row's maximum" in cs231n_softmax_loss.wrong_answer_note(large, "dx", probs)
    assert cs231n_softmax_loss.wrong_answer_note(small, "dx", np.full(small.x.shape, np.nan)) == ""


@pytest.mark.parametrize("pack", [cs231n_svm_loss, cs231n_softmax_loss])
def test_check_plan_lists_every_check_the_cases_make(pack):
    """One notebook case and each hidden case, loss then dx, then the inputs check; the
    rubric groups the plan names are the pack's."""
    plan = pack.check_plan(3)
    ids = [c["id"] for c in plan]
    assert ids == ["loss/notebook/loss", "loss/notebook/dx", "loss/hidden-1/loss", "loss/hidden-1/dx",
                   "loss/hidden-2/loss", "loss/hidden-2/dx", "loss/hidden-3/loss", "loss/hidden-3/dx",
                   "inputs-unchanged"]
    assert {c["group"] for c in plan} == set(pack.DEFAULT_RUBRIC["points"])
    made = [c.id for c in pack.notebook_cases() + pack.hidden_cases(1, 3)]
    assert made == ["notebook", "hidden-1", "hidden-2", "hidden-3"]
