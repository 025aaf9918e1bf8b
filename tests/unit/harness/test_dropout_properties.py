"""The dropout pack's property checks, without a sandbox: each example under
submissions/dropout/ is imported here and its calls made in this process, in the order the
harness makes them (a seeded forward twice, then backward), and the property checks must
pass or fail exactly as the example's docstring says, with the message naming the bug.

The end-to-end grading of the same examples (through the worker protocol) is
tests/test_dropout_pack.py; this is the fast loop over the logic.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from grader.harness.assignments import cs231n_dropout as pack
from grader.harness.assignments import dropout_properties as props
from grader.harness.properties import CallOutput

EXAMPLES = Path(__file__).resolve().parents[3] / "submissions" / "dropout"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"dropout_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(module, case) -> list[CallOutput]:
    """The case's calls as the harness makes them; a call that raises gives no results, and
    a backward whose forwards kept no cache gets the pack's stand-in."""
    outputs, cache = [], None
    for call in case.calls:
        try:
            if call == "forward":
                out, cache = module.dropout_forward(case.x, dict(case.dropout_param))
                outputs.append(CallOutput("forward", {"out": np.asarray(out, dtype=np.float64)}))
            elif cache is None:
                dx = module.dropout_backward(case.dout, (dict(case.dropout_param), case.stand_in_mask()))
                outputs.append(CallOutput("backward", {"dx": np.asarray(dx, dtype=np.float64)}, stood_in=("cache",),
                                          note=" (stand-in)"))
            else:
                dx = module.dropout_backward(case.dout, cache)
                outputs.append(CallOutput("backward", {"dx": np.asarray(dx, dtype=np.float64)}))
        except Exception as exc:  # noqa: BLE001 - a student's error becomes the call's problem
            label = "out" if call == "forward" else "dx"
            outputs.append(CallOutput(call, problems={label: f"raised {type(exc).__name__}: {exc}"}))
    return outputs


def _failures(name: str) -> dict[str, str]:
    """check id -> message of every failed property over every case (seed 5)."""
    module = _load(name)
    failed = {}
    for case in pack.notebook_cases() + pack.hidden_cases(5, len(pack.HIDDEN_SHAPES)):
        for call, label, passed, message in pack.property_checks(case, _run(module, case)):
            if not passed:
                failed[f"{call}/{case.id}/{label}"] = message
    return failed


@pytest.mark.parametrize("name", ["course_rand", "binomial_mask"])
def test_correct_solutions_pass_every_property(name):
    assert _failures(name) == {}


# (example, the properties that fail, a pattern every one of their messages matches)
BUGS = [
    ("bug_p_as_drop", {"zero-or-scaled", "kept-fraction", "mask"},
     r"^(zero or scaled: the kept units of out are x / \(1 - p\), and about \d+% of the units are kept|kept fraction: "
     r"|backward mask: dx is dout \* mask / \(1 - p\)).*: this is p read as the probability of DROPPING a unit \(the "
     r"course's meaning in 2016-2017\); in this course p is the probability of KEEPING it"),
    ("bug_not_inverted", {"zero-or-scaled", "test-returns-x", "mask"},
     r"^(zero or scaled: the kept units of out equal x .*dropout without inverted scaling|test returns x: out is x \* p"
     r" .*test mode returns x unchanged|backward mask: dx is dout \* mask in .*the division by p is missing)"),
    ("bug_scale_one_minus_p", {"zero-or-scaled", "mask"},
     r"^(zero or scaled: the kept units of out are x / \(1 - p\), expected x / p .*not by the probability of dropping"
     r"|backward mask: dx is dout \* mask / \(1 - p\))"),
    ("bug_backward_no_mask", {"mask"}, r"^backward mask: dx is dout in .*the backward ignores the mask"),
    ("bug_seed_ignored", {"same-seed"},
     r"^same seed: two train calls with dropout_param\['seed'\] = \d+ gave different outputs .*The seed is ignored"),
    ("bug_randn_mask", {"kept-fraction"}, r"^kept fraction: .*a mask drawn with np\.random\.randn keeps this share"),
]


@pytest.mark.parametrize("name, properties, pattern", BUGS, ids=[b[0] for b in BUGS])
def test_each_bug_fails_its_properties_with_a_message_naming_it(name, properties, pattern):
    failed = _failures(name)
    assert {check_id.rsplit("/", 1)[1] for check_id in failed} == properties
    for check_id, message in failed.items():
        assert re.search(pattern, message), (check_id, message)


def test_two_dimensional_mask_fails_only_on_the_other_ranks():
    """The 2-D-only mask is right on the notebook's 2-D inputs and raises on the 3-D and
    4-D hidden train cases: their forward properties fail, naming the error, while the
    backward, given the stand-in cache, is right and passes."""
    failed = _failures("bug_two_dims_only")
    expected = {f"forward/hidden-{i + 1}/{label}" for i, (shape, _, mode) in enumerate(pack.HIDDEN_SHAPES)
                if len(shape) != 2 and mode == "train" for label in ("same-seed", "zero-or-scaled", "kept-fraction")}
    assert set(failed) == expected and len(expected) == 6
    assert all("operands could not be broadcast" in message for message in failed.values())


def test_backward_on_the_stand_in_is_judged_against_the_stand_in_mask():
    case = pack.hidden_cases(1, 1)[0]
    forward = CallOutput("forward", problems={"out": "dropout_forward raised ValueError: no"})
    right = CallOutput("backward", {"dx": case.dout * case.stand_in_mask()}, stood_in=("cache",), note=" (n)")
    passed, message = props.backward_mask(case, forward, right)
    assert passed and message.startswith("backward mask: dx = dout * mask with the grader's stand-in cache")
    wrong = CallOutput("backward", {"dx": case.dout}, stood_in=("cache",), note=" (your forward gave no usable cache)")
    passed, message = props.backward_mask(case, forward, wrong)
    assert not passed and message.endswith("mask already divided by p (your forward gave no usable cache)")


def test_kept_fraction_tolerance_is_six_binomial_deviations():
    """On the notebook's 500 x 500 input at keep 0.4 the tolerance is 6 * sqrt(0.24 / 250000)
    = 0.00588: a fraction just inside passes, just outside fails."""
    case = pack.notebook_cases()[2]  # notebook-train-2, p = 0.4
    assert case.keep == 0.4 and case.x.size == 250_000
    tolerance = 6 * np.sqrt(0.4 * 0.6 / 250_000)
    for shift, expected in ((tolerance - 4e-6, True), (tolerance + 4e-6, False)):
        kept = np.zeros(case.x.size, dtype=bool)
        kept[: int(round((0.4 + shift) * case.x.size))] = True
        out = np.where(kept.reshape(case.x.shape), case.x / 0.4, 0.0)
        passed, message = props.kept_fraction(case, CallOutput("forward", {"out": out}))
        assert passed is expected, message
    assert "0.4 +/- 0.0059 (6 binomial standard deviations over 250000 units)" in message


def test_failed_call_is_named_in_every_property_that_needs_it():
    case = pack.hidden_cases(1, 1)[0]
    failed = CallOutput("forward", problems={"out": "dropout_forward raised KeyError: 'p'\nTraceback ..."},
                        note=" (a note)")
    ok = CallOutput("backward", {"dx": case.dout})
    results = pack.property_checks(case, [failed, failed, ok])
    assert [r[2] for r in results] == [False] * 4
    assert results[0][3].startswith("same seed: not checked, dropout_forward raised KeyError: 'p' (a note)\n")
    assert results[3][3].startswith("backward mask: not checked, the forward before it gave no usable out")


def test_wrong_shape_and_not_finite_outputs_are_named():
    case = pack.hidden_cases(1, 1)[0]
    wrong = CallOutput("forward", {"out": np.zeros((3, 3))})
    passed, message = props.zero_or_scaled(case, wrong)
    assert not passed and message == f"zero or scaled: not checked, out has shape (3, 3), expected x's shape " \
                                      f"{case.x.shape} {case.where}"
    nan = np.full(case.x.shape, np.nan)
    passed, message = props.test_returns_x(case, CallOutput("forward", {"out": nan}))
    assert not passed and f"out has {case.x.size} NaN or infinite values" in message


def test_drop_meaning_setting_flips_what_is_right(monkeypatch):
    """A course on the 2016-2017 text sets P_MEANING = "drop": then the old-style solution
    passes and the course's 2018 solution is told it reads p the other way."""
    monkeypatch.setattr(pack, "P_MEANING", "drop")
    assert _failures("bug_p_as_drop") == {}
    failed = _failures("course_rand")
    assert failed and any("probability of KEEPING a unit (the course's meaning since 2018)" in m
                          for m in failed.values())


def _degenerate_solution(keeps_everything: bool):
    """Forward and backward that agree with each other but are no dropout: zeros everywhere,
    or every unit kept and scaled (x / p), the same in the backward."""
    from types import SimpleNamespace

    def forward(x, dropout_param):
        if dropout_param["mode"] == "test":
            return x, (dropout_param, None)
        keep = pack.keep_probability(dropout_param["p"])
        return (x / keep if keeps_everything else np.zeros_like(x)), (dropout_param, None)

    def backward(dout, cache):
        dropout_param, _ = cache
        if dropout_param["mode"] == "test":
            return dout
        keep = pack.keep_probability(dropout_param["p"])
        return dout / keep if keeps_everything else np.zeros_like(dout)

    return SimpleNamespace(dropout_forward=forward, dropout_backward=backward)


@pytest.mark.parametrize("keeps_everything, said", [(False, "keeps no unit at all"), (True, "drops no unit at all")],
                         ids=["all-zero", "no-drop"])
def test_outputs_that_are_no_mask_pass_no_mask_property(keeps_everything, said):
    """Two all-zero outputs agree with each other and with an all-zero backward; so do two
    outputs that keep everything: neither is a mask, and same seed, kept fraction and the
    backward's mask all fail, saying why (a review found them passing 8 of 8 cases)."""
    module = _degenerate_solution(keeps_everything)
    for case in pack.notebook_cases() + pack.hidden_cases(5, len(pack.HIDDEN_SHAPES)):
        for call, label, passed, message in pack.property_checks(case, _run(module, case)):
            if label in ("same-seed", "kept-fraction", "mask"):
                assert not passed and said in message, (case.id, label, message)
