"""The layer-norm and group-norm packs on their own (no process): how their calls are
called, and that a bug is named only when the answer is exactly that bug."""

from __future__ import annotations

import numpy as np
import pytest

from grader.harness.assignments import cs231n_groupnorm as groupnorm_pack
from grader.harness.assignments import cs231n_layernorm as layernorm_pack
from reference import groupnorm, layernorm

PACKS = [pytest.param(layernorm_pack, id="layernorm"), pytest.param(groupnorm_pack, id="groupnorm")]


@pytest.mark.parametrize("pack", PACKS)
def test_right_answers_are_never_named_as_a_bug(pack):
    """wrong_answer_note runs only on failed checks, but a note that could fire on a right
    answer would also fire on one within tolerance of it: none may."""
    for case in pack.notebook_cases() + pack.hidden_cases(17, len(pack.HIDDEN_SHAPES)):
        for label, right in pack.expected_outputs(case).items():
            assert pack.wrong_answer_note(case, label, right) == "", (case.id, label)
        assert pack.wrong_answer_note(case, "out", None) == ""


@pytest.mark.parametrize("pack", PACKS)
def test_backward_gets_the_kept_cache_or_the_templates_none(pack):
    case = pack.hidden_cases(2, 1)[0]
    args, inputs = case.arguments("backward", {"cache": "cache-hidden-1"})
    assert args == [{"array": "dout"}, {"kept": "cache-hidden-1"}] and list(inputs) == ["dout"]
    args, _ = case.arguments("backward", {})
    assert args[1] == {"value": None} and pack.STAND_INS == {"cache": "None"}


def test_group_norm_passes_G_and_gn_param_as_plain_values():
    """G is an int the student may use as a shape; gn_param a fresh dict each call."""
    case = groupnorm_pack.notebook_cases()[0]
    args, inputs = case.arguments("forward", {})
    assert args == [{"array": "x"}, {"array": "gamma"}, {"array": "beta"}, {"value": 2}, {"value": {"mode": "train"}}]
    assert inputs["gamma"].shape == inputs["beta"].shape == (1, 6, 1, 1)


def test_layer_norm_bugs_are_named_on_every_hidden_shape():
    for case in layernorm_pack.hidden_cases(8, len(layernorm_pack.HIDDEN_SHAPES)):
        args = (case.x, case.gamma, case.beta, case.ln_param)
        batch = layernorm_pack.wrong_answer_note(case, "out", layernorm.layernorm_forward_batch_axis(*args))
        assert "over the batch (axis 0)" in batch, case.where
        eps = layernorm_pack.wrong_answer_note(case, "out", layernorm.layernorm_forward_eps_outside(*args))
        assert "eps was added to the standard deviation" in eps, case.where
        right = layernorm_pack.expected_outputs(case)["dbeta"]
        assert "gamma's shape" in layernorm_pack.wrong_answer_note(case, "dbeta", right[None, :])


def test_group_norm_dgamma_of_shape_C_is_named():
    for case in groupnorm_pack.hidden_cases(8, len(groupnorm_pack.HIDDEN_SHAPES)):
        right = groupnorm_pack.expected_outputs(case)
        for label in ("dgamma", "dbeta"):
            note = groupnorm_pack.wrong_answer_note(case, label, right[label].ravel())
            assert "must have gamma's shape (1, " in note, case.where
        args = (case.x, case.gamma, case.beta, case.G, case.gn_param)
        eps = groupnorm_pack.wrong_answer_note(case, "out", groupnorm.spatial_groupnorm_forward_eps_outside(*args))
        assert "eps was added to the standard deviation" in eps, case.where


def test_the_notebook_readout_never_prints_a_negative_zero():
    # A right batchnorm's means are rounding noise whose sign changes from run to run.
    from grader.harness.assignments import cs231n_batchnorm
    assert cs231n_batchnorm.two_places(np.array([-1e-17, 1e-17, -0.004, -0.006, 11.0])) == \
        "0.00, 0.00, 0.00, -0.01, 11.00"
