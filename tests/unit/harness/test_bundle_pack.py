"""The assignment bundle (grader/harness/assignments/bundle.py) without a process: its plan,
rubric and configuration, the harness job's layers, stub detection, per-layer property
scoring, and the reference worker's module-named functions. The bundle graded end to end:
tests/test_bundle.py."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

from grader.errors import UsageError
from grader.grading.config import GradingConfig
from grader.grading.scoring import score_checks, total
from grader.harness import assignments
from grader.harness.assignments import bundle as bundle_module
from grader.harness.call_outcome import CallOutcome, Returned
from grader.harness.job import GradingJob, JobError
from grader.harness.layer_checks import stub_behaviour

A2 = "cs231n-a2"
# Every layer of layers.py, in the file's order.
LAYERS = ["affine", "relu", "batchnorm", "layernorm", "dropout", "conv", "maxpool", "spatial-batchnorm",
          "spatial-groupnorm", "svm-loss", "softmax-loss"]
LAYER_POINTS = 100 / len(LAYERS)


def test_the_registry_serves_a_bundle_of_its_packs():
    a2 = assignments.get(A2)
    assert assignments.is_bundle(a2) and not assignments.is_bundle(assignments.get("cs231n-conv"))
    assert [layer.key for layer in a2.layers] == LAYERS
    assert [layer.pack.NAME for layer in a2.layers] == list(assignments.BUNDLES[A2])
    assert {f"cs231n-{key}" for key in LAYERS} == set(assignments.PACKS)  # assignment 2 is every pack
    assert A2 in assignments.names() and A2 not in assignments.PACKS  # a bundle is no pack (PACK_NAMES)
    # Every student function of every layer, under "<layer>/<call>": the worker imports them all.
    assert a2.STUDENT_FUNCTIONS == {f"{layer.key}/{call}": fn for layer in a2.layers
                                    for call, fn in layer.pack.STUDENT_FUNCTIONS.items()}
    assert {"conv/forward": "conv_forward_naive", "maxpool/backward": "max_pool_backward_naive",
            "batchnorm/backward_alt": "batchnorm_backward_alt", "softmax-loss/loss": "softmax_loss"}.items() \
        <= a2.STUDENT_FUNCTIONS.items()


def test_the_plan_is_each_layers_plan_namespaced():
    a2 = assignments.get(A2)
    plan = a2.check_plan(3)
    for layer in a2.layers:
        own = layer.pack.check_plan(3)
        mine = [c for c in plan if c["id"].startswith(layer.key + "/")]
        assert [c["id"] for c in mine] == [f"{layer.key}/{c['id']}" for c in own]
        assert [c["group"] for c in mine] == [f"{layer.key}.{c['group']}" for c in own]
        # The call under the bundle's name for it (unique in the result), "all" as it was;
        # the student's function and the pack's name as the pack has them.
        assert [c["call"] for c in mine] == [c["call"] if c["call"] == "all" else f"{layer.key}/{c['call']}"
                                             for c in own]
        assert [(c["function"], c["layer"]) for c in mine] == [(c["function"], c["layer"]) for c in own]
        assert [c["name"] for c in mine] == [c["name"] if c["call"] != "all" else f"{layer.key}: {c['name']}"
                                             for c in own]
    assert len({c["name"] for c in plan}) == len(plan)  # Gradescope shows a check by its name
    assert len(plan) == sum(len(layer.pack.check_plan(3)) for layer in a2.layers)
    assert {c["group"] for c in plan} == set(a2.DEFAULT_RUBRIC["points"])


def test_default_weights_are_equal_and_keep_each_packs_proportions():
    a2 = assignments.get(A2)
    points = a2.DEFAULT_RUBRIC["points"]
    assert total(points.values()) == 100
    for layer in a2.layers:
        own = layer.pack.DEFAULT_RUBRIC["points"]
        assert total(v for g, v in points.items() if g.startswith(layer.key + ".")) == pytest.approx(LAYER_POINTS)
        assert all(points[f"{layer.key}.{group}"] == pytest.approx(LAYER_POINTS * value / sum(own.values()))
                   for group, value in own.items())


def test_a_single_packs_configuration_hash_is_unchanged():
    """The config hashes of single packs: bundles changed none (the adaptive timing plan's
    settings did, on purpose: its figures are timed to another plan)."""
    assert GradingConfig().config_hash() == "790c5149822816c9"
    assert GradingConfig(assignment="cs231n-maxpool").config_hash() == "2df71b3177dc8541"
    assert "layers" not in GradingConfig().harness_job(1)["timing"]
    assert GradingConfig().harness_job(1)["layers"] == {}


def test_a_bundle_rubric_is_set_per_layer():
    config = GradingConfig(assignment=A2, rubric={"tolerance": 1e-6, "layers": {
        "conv": {"weight": 70, "points": {"inputs_unchanged": 0}}, "maxpool": {"weight": 30, "tolerance": 1e-9}}})
    assert config.rubric.points["conv.inputs_unchanged"] == 0
    assert total(v for g, v in config.rubric.points.items() if g.startswith("conv.")) == 70
    assert total(v for g, v in config.rubric.points.items() if g.startswith("maxpool.")) == 30
    # The layers left out keep their default weight.
    assert total(v for g, v in config.rubric.points.items() if g.startswith("relu.")) == pytest.approx(LAYER_POINTS)
    # A layer's tolerance: its own, else the course's rubric.tolerance, else its pack's.
    layers = config.harness_job(1)["layers"]
    assert list(layers) == LAYERS
    assert layers["conv"] == {"tolerance": 1e-6, "timed": True}
    assert layers["maxpool"] == {"tolerance": 1e-9, "timed": True}
    assert layers["relu"] == {"tolerance": 1e-6, "timed": False}  # not raced: timed only when asked
    # A dumped configuration reads back to the same grading.
    assert GradingConfig.model_validate(config.model_dump()).config_hash() == config.config_hash()


@pytest.mark.parametrize("rubric, words", [
    ({"layers": {"pool": {}}}, f"unknown layers ['pool'] in rubric.layers for cs231n-a2; known: {LAYERS}"),
    ({"layers": {"conv": {"points": {"forward": 1}}}}, "unknown rubric groups ['forward'] for layer conv"),
    ({"points": {"conv.forward_hidden": 5}}, "a bundle's points are set per layer, in rubric.layers"),
    ({"layers": {"conv": {"weight": -1}}}, "greater than or equal to 0"),
])
def test_a_wrong_bundle_rubric_is_refused_with_what_is_wrong(rubric, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        GradingConfig(assignment=A2, rubric=rubric)


def test_rubric_layers_are_refused_for_a_single_pack(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"assignment": "cs231n-conv", "rubric": {"layers": {"conv": {"weight": 5}}}}')
    with pytest.raises(UsageError, match="rubric.layers is for a bundle of packs"):
        GradingConfig.load(path)


def test_only_racing_layers_are_timed_unless_the_configuration_asks():
    assert GradingConfig(assignment=A2).timed_layers() == ["conv", "maxpool"]
    config = GradingConfig(assignment=A2, timing={"layers": ["maxpool"]})
    assert config.harness_job(1)["layers"]["conv"]["timed"] is False
    # One timing row per timed (layer, call), each with its own pack's case.
    assert [(pack.NAME, call, reported) for pack, call, reported in config.timed_calls()] == [
        ("cs231n-maxpool", "forward", "maxpool/forward"), ("cs231n-maxpool", "backward", "maxpool/backward")]
    assert GradingConfig(assignment=A2, timing={"layers": []}).timed_calls() == []
    with pytest.raises(ValueError, match=r"timing.layers \['pool'\]: not layers of cs231n-a2"):
        GradingConfig(assignment=A2, timing={"layers": ["pool"]})


def test_the_harness_job_checks_a_bundles_layers():
    job = GradingConfig(assignment=A2).harness_job(7)
    assert GradingJob.from_json(job).layers["maxpool"] == {"tolerance": 1e-7, "timed": True}
    with pytest.raises(JobError, match="layers must give tolerance and timed for each of"):
        GradingJob.from_json({**job, "layers": {"conv": job["layers"]["conv"]}})
    with pytest.raises(JobError, match="layers must give"):
        GradingJob.from_json({**GradingConfig().harness_job(7), "layers": job["layers"]})


@pytest.mark.parametrize("outcome, seen", [
    (CallOutcome("ok", 0.0, results={"out": Returned("none")}), "returned None"),
    (CallOutcome("bad_return", 0.0, message="returned None, expected a tuple (out, cache)"), "returned None"),
    (CallOutcome("raised", 0.0, error={"type": "NotImplementedError", "message": ""}), "raised NotImplementedError"),
    (CallOutcome("ok", 0.0, results={"out": Returned("array", array=np.zeros(2))}), None),
    (CallOutcome("ok", 0.0, results={"dx": Returned("none"), "dw": Returned("array", array=np.zeros(2))}), None),
    (CallOutcome("raised", 0.0, error={"type": "ValueError", "message": "shapes"}), None),
    (None, None),  # not run (not defined): its own message says so
])
def test_what_counts_as_the_starter_stub(outcome, seen):
    assert stub_behaviour(outcome) == seen


def test_a_packs_own_stub_error_counts_as_the_stub_for_its_call_only():
    """Dropout's template crashes on its own out.astype(...) when nothing is filled in: the
    pack names that error (STUB_ERRORS), for its forward only; any other AttributeError is a bug."""
    dropout = assignments.get("cs231n-dropout")
    none_astype = {"type": "AttributeError", "message": "'NoneType' object has no attribute 'astype'"}
    crashed = CallOutcome("raised", 0.0, error=none_astype)
    assert stub_behaviour(crashed, dropout.STUB_ERRORS["forward"]) == \
        "raised AttributeError: 'NoneType' object has no attribute 'astype'"
    assert stub_behaviour(crashed) is None and "backward" not in dropout.STUB_ERRORS
    other = CallOutcome("raised", 0.0, error={**none_astype, "message": "'NoneType' object has no attribute 'shape'"})
    assert stub_behaviour(other, dropout.STUB_ERRORS["forward"]) is None


def _raw(check_id: str, call: str, group: str, passed: bool) -> dict:
    layer = {"conv": "cs231n-conv", "maxpool": "cs231n-maxpool"}[check_id.split("/")[0]]
    return {"id": check_id, "name": check_id, "call": call, "function": "f", "layer": layer, "group": group,
            "passed": passed, "message": "m"}


def test_a_layers_inputs_check_needs_that_layers_own_correct_answer():
    """Max pooling's inputs check earns nothing beside the convolution's correct answers."""
    config = GradingConfig(assignment=A2)
    raw = [_raw("conv/forward/hidden-1", "conv/forward", "conv.forward_hidden", True),
           _raw("conv/inputs-unchanged", "all", "conv.inputs_unchanged", True),
           _raw("maxpool/forward/hidden-1", "maxpool/forward", "maxpool.forward_hidden", False),
           _raw("maxpool/inputs-unchanged", "all", "maxpool.inputs_unchanged", True)]
    scored = {c.id: c for c in score_checks(raw, config)}
    conv_share = assignments.get("cs231n-conv").DEFAULT_RUBRIC["points"]
    assert scored["conv/inputs-unchanged"].score == pytest.approx(
        LAYER_POINTS * conv_share["inputs_unchanged"] / sum(conv_share.values()), abs=1e-6)
    assert scored["maxpool/inputs-unchanged"].score == 0
    assert "no call of max_pool_forward_naive or max_pool_backward_naive" in scored["maxpool/inputs-unchanged"].message


def test_the_reference_worker_finds_each_layers_reference_by_module():
    by_module = importlib.import_module("reference.by_module")
    for layer in assignments.get(A2).layers:
        module = importlib.import_module(layer.pack.REFERENCE_ENTRY.removesuffix(".py").replace("/", "."))
        for name in layer.pack.REFERENCE_FUNCTIONS.values():  # "strided.conv_forward"
            assert getattr(by_module, name) is getattr(module, name.split(".")[1])
    # Styles that share a function name stay apart.
    assert getattr(by_module, "naive.conv_forward") is not getattr(by_module, "strided.conv_forward")


def test_a_bundle_refuses_two_layers_with_one_function():
    conv = assignments.get("cs231n-conv")
    with pytest.raises(ValueError, match="share a layer key or a student function"):
        bundle_module.Bundle("x-y", (conv, conv), frozenset())


@pytest.mark.parametrize("name", sorted(assignments.PACKS))
def test_every_pack_can_join_a_bundle(name):
    """Adding a pack to BUNDLES is one line: any registered pack makes a bundle layer whose
    plan, rubric and reference functions work (the reference worker finds them by module)."""
    pack = assignments.get(name)
    alone = bundle_module.Bundle(f"{name}-alone", (pack,), frozenset())
    (layer,) = alone.layers
    assert layer.key == name.partition("-")[2]
    assert {c["group"] for c in alone.check_plan(2)} == set(alone.DEFAULT_RUBRIC["points"])
    assert total(alone.DEFAULT_RUBRIC["points"].values()) == 100
    by_module = importlib.import_module("reference.by_module")
    assert all(callable(getattr(by_module, fn, None)) for fn in layer.pack.REFERENCE_FUNCTIONS.values())
