"""The cs231n-a2 bundle graded end to end (process sandbox): whole layers.py files (every
layer of assignment 2, eleven packs), each layer by its own pack in one grading, against
golden JSON (``--update-golden`` rewrites them; review the diff). Each example says its
score and a message that must appear among its failed checks; the bundle's layer must
agree, check by check, with its pack graded alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.grading.scoring import score_checks, total
from grader.harness import assignments
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "submissions" / "a2"
GOLDEN_DIR = Path(__file__).parent / "golden" / "a2"
SEED = 20261128
TIMING = dict(size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1)

LAYERS = ["affine", "relu", "batchnorm", "layernorm", "dropout", "conv", "maxpool", "spatial-batchnorm",
          "spatial-groupnorm", "svm-loss", "softmax-loss"]
LAYER_POINTS = 100 / len(LAYERS)  # equal default weights

# (example, score, a message that must appear among the failed checks). Equal default
# weights: 100/11 points a layer, so a whole layer lost leaves 90.909091 (scores are
# rounded to 6 decimals).
EXAMPLES = [
    pytest.param("layers_correct", 100, None, id="layers_correct"),
    pytest.param("layers_vectorised", 100, None, id="layers_vectorised"),
    # Lost: relu's inputs check, batchnorm's and spatial batchnorm's running statistics and
    # test-mode outputs, softmax's hidden case of scores near 1000 (loss and dx).
    pytest.param("layers_three_bugs", 87.984848, r"^loss has 1 NaN and 0 infinite values for x of shape \(\d+, \d+\), "
                 r"scores near 1000.*subtract each row's maximum", id="layers_three_bugs"),
    pytest.param("layers_stub", 90.909091, r"^layernorm_backward is still the starter code's stub \(it returned "
                 r"None on every check\): its checks score 0, and the rest of the file is graded as usual$",
                 id="layers_stub"),
    pytest.param("layers_missing", 90.909091, r"^conv_forward_naive is not defined in layers_missing\.py$",
                 id="layers_missing"),
]


@pytest.fixture(scope="module")
def bundle_config():
    return GradingConfig(assignment="cs231n-a2", timing=TimingSettings(**TIMING))


@pytest.fixture(scope="module")
def graded(bundle_config):
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, bundle_config,
                                              seed=SEED) for param in EXAMPLES}


def without_flops(result):
    """The result with no timing row's ``flops``: it is filled only beside the machine figures,
    which the first grading of each layer in a session measures only on a quiet machine (a
    busy one leaves them, and flops, out). The figure itself is the pack's declaration,
    checked by tests/unit/harness/test_packs.py; the golden compares everything else."""
    return result.model_copy(update={"timing": [t.model_copy(update={"flops": None}) for t in result.timing]})


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_bundle_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-a2"
    matches_golden(without_flops(result), score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def layer_checks(result, layer: str) -> list:
    return [c for c in result.checks if c.id.startswith(layer + "/")]


def test_every_check_is_namespaced_by_its_layer(graded):
    """Ids "<layer>/<the pack's id>", groups "<layer>.<the pack's group>", every layer's checks
    in one result in layers.py's order, and the layers' points equal (100/11 each by default)."""
    checks = graded["layers_correct"].checks
    assert list(dict.fromkeys(c.id.split("/")[0] for c in checks)) == LAYERS
    assert all(c.group.split(".")[0] == c.id.split("/")[0] for c in checks)
    ids = {c.id for c in checks}
    assert {"conv/backward/hidden-3/dx", "maxpool/inputs-unchanged", "softmax-loss/loss/notebook/loss",
            "batchnorm/forward_train/notebook-train/running_mean"} <= ids
    for layer in LAYERS:
        assert total(c.max_score for c in layer_checks(graded["layers_correct"], layer)) == pytest.approx(
            LAYER_POINTS, abs=1e-5)


def test_a_stub_layer_scores_nothing_and_the_other_layers_everything(graded):
    result = graded["layers_stub"]
    assert result.failure is None
    for layer in LAYERS:
        if layer != "layernorm":
            assert all(c.status.value == "passed" for c in layer_checks(result, layer)), layer
    layernorm = layer_checks(result, "layernorm")
    assert all(c.score == 0 for c in layernorm)
    # The inputs check of a stub is a property without a correct answer: no points, and it says why.
    inputs = next(c for c in layernorm if c.id == "layernorm/inputs-unchanged")
    assert "no call of layernorm_forward or layernorm_backward returned a correct output" in inputs.message
    # Only the layers the course races are timed, one row per (layer, call): conv's and max pooling's.
    assert [(t.call, t.measured) for t in result.timing] == [
        ("conv/forward", True), ("conv/backward", True), ("maxpool/forward", True), ("maxpool/backward", True)]


def test_three_bugs_cost_their_layers_and_no_other(graded):
    """relu's dout written in place, batchnorm's running statistics never written back (which
    spatial batchnorm inherits: it calls that batchnorm_forward), softmax without the max shift:
    each named by its own message, every other layer full marks."""
    result = graded["layers_three_bugs"]
    failed = {layer: [c.message for c in layer_checks(result, layer) if c.status.value == "failed"]
              for layer in LAYERS}
    assert {layer for layer, messages in failed.items() if messages} == {
        "relu", "batchnorm", "spatial-batchnorm", "softmax-loss"}
    assert any("`dout[x <= 0] = 0` in relu_backward changes the upstream gradient dout in place" in m for m in failed["relu"])
    for layer in ("batchnorm", "spatial-batchnorm"):
        assert any(re.match(r"bn_param has no 'running_mean' after \w+ at x", m) for m in failed[layer])
        assert any("The running statistics in bn_param came back as they went in" in m for m in failed[layer])
    assert all("subtract each row's maximum" in m for m in failed["softmax-loss"])


def test_a_missing_layer_is_not_a_failure_of_the_whole_file(graded):
    result = graded["layers_missing"]
    assert result.failure is None  # a single pack's grading would say "... not defined"
    assert any("not conv_forward_naive or conv_backward_naive" in note for note in result.notes)
    assert all(c.status.value == "passed" for c in result.checks if not c.id.startswith("conv/"))


@pytest.mark.parametrize("key, example", [("batchnorm", "batchnorm/bug_not_written_back.py"),
                                          ("relu", "relu/bug_dout_in_place.py"),
                                          ("softmax-loss", "softmax_loss/bug_no_max_shift.py")])
def test_a_layer_grades_as_its_pack_alone(graded, bundle_config, key, example):
    """Each buggy layer of the three-bug file and its pack alone on the same functions (the
    pack's own bug example): the same checks, passed and failed alike, with the same messages
    (file name aside). Batchnorm's carries its written running statistics from call to call.
    The pack alone gets the bundle's hidden-case count (the longest of its layers' lists)."""
    alone = grade_submission(ROOT / "submissions" / example, get_sandbox("process"),
                             GradingConfig(assignment=f"cs231n-{key}", timing=TimingSettings(**TIMING),
                                           hidden_cases=bundle_config.hidden_cases), seed=SEED)
    in_bundle = {c.id.removeprefix(key + "/"): c for c in layer_checks(graded["layers_three_bugs"], key)}
    assert list(in_bundle) == [c.id for c in alone.checks]

    def text(message: str) -> str:  # line numbers and the file's name differ between the two files
        return re.sub(r'File "[^"]+", line \d+', "File", message)

    for check in alone.checks:
        mine = in_bundle[check.id]
        assert (mine.status, mine.group, text(mine.message)) == (check.status, f"{key}.{check.group}",
                                                                 text(check.message)), check.id


def test_layer_weights_come_from_the_configuration(graded):
    """A course grading two layers, the convolution 80 and layer normalization 20 (the others
    weighted 0): the stub file (right convolution, layer normalization not started) then scores
    80, each layer's groups scaled inside."""
    weights = {layer: {"weight": 0} for layer in LAYERS} | {"conv": {"weight": 80}, "layernorm": {"weight": 20}}
    config = GradingConfig(assignment="cs231n-a2", timing=TimingSettings(**TIMING), rubric={"layers": weights})
    raw = [{"id": c.id, "name": c.name, "call": c.call, "function": c.function, "layer": c.layer, "group": c.group,
            "passed": c.status.value == "passed", "message": c.message} for c in graded["layers_stub"].checks]
    rescored = score_checks(raw, config)
    assert total(c.score for c in rescored) == 80 and total(c.max_score for c in rescored) == 100


def test_a_load_failure_is_one_check_and_the_what_if_repairs_the_whole_file(bundle_config):
    """One Python 2 print statement in max pooling: the file does not load, one check says
    why and every layer's checks point at it; the repaired copy grades every layer."""
    result = grade_submission(EXAMPLES_DIR / "layers_python2_print.py", get_sandbox("process"), bundle_config,
                              seed=SEED)
    assert result.score == 0 and result.checks[0].id == "load"
    assert "Missing parentheses in call to 'print'" in result.checks[0].message
    assert all("see the check 'the submission loads'" in c.message for c in result.checks[1:])
    assert list(dict.fromkeys(c.id.split("/")[0] for c in result.checks[1:])) == LAYERS
    variant = result.what_if.variants[0]
    assert [r.rule for r in variant.repairs] == ["python2_print"]
    planned = len(assignments.get("cs231n-a2").check_plan(bundle_config.hidden_cases))
    assert variant.passed == variant.total == planned
    assert result.what_if.summary.startswith(
        f"With this 1 mechanical fix, your layers would pass {planned} of {planned} checks")


def test_bundle_results_make_a_leaderboard(graded):
    """One board over the bundle's results: its calls are each timed layer's, named with the
    layer; the right files rank, the ones with a wrong or missing layer do not."""
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-a2"
    assert len(board.calls) == 4 and all("maxpool" in call or "conv" in call for call in board.calls)
    status = {e.student_id: e.status for e in board.entries}
    assert status["layers_correct"] == status["layers_vectorised"] == "ranked"
    assert status["layers_three_bugs"] == status["layers_stub"] == "failed_correctness"


def test_a_stub_that_raises_and_a_course_that_times_one_layer():
    """The convolution raises NotImplementedError: its checks say it is the stub, the other ten
    layers score. The course times max pooling alone: its two timing rows, none for the convolution."""
    config = GradingConfig(assignment="cs231n-a2", timing=TimingSettings(**TIMING, layers=["maxpool"]))
    result = grade_submission(EXAMPLES_DIR / "layers_conv_notimplemented.py", get_sandbox("process"), config,
                              seed=SEED)
    assert result.score == 90.909091
    conv = [c for c in result.checks if c.layer == "cs231n-conv" and c.call != "all"]
    assert conv and all(c.message == f"{c.function} is still the starter code's stub (it raised NotImplementedError "
                        "on every check): its checks score 0, and the rest of the file is graded as usual" for c in conv)
    assert [(t.layer, t.call, t.measured) for t in result.timing] == [
        ("cs231n-maxpool", "maxpool/forward", True), ("cs231n-maxpool", "maxpool/backward", True)]


def test_the_whole_starter_file_scores_nothing_and_says_so_for_every_function(tmp_path, bundle_config):
    """The course's layers.py untouched (every pack's STARTER_TEMPLATE, joined): 0 points, no
    failure of the whole file, and every student function of every layer named as the stub,
    including dropout's forward, whose template crashes on its own out.astype(...) (STUB_ERRORS)."""
    a2 = assignments.get("cs231n-a2")
    path = tmp_path / "layers.py"
    path.write_text("import numpy as np\n" + a2.STARTER_TEMPLATE)
    result = grade_submission(path, get_sandbox("process"), bundle_config, seed=SEED)
    assert result.gradable and result.failure is None and result.score == 0
    for layer in a2.layers:
        messages = [c.message for c in layer_checks(result, layer.key)]
        for function in dict.fromkeys(layer.pack.STUDENT_FUNCTIONS.values()):
            assert any(m.startswith(f"{function} is still the starter code's stub (it ") for m in messages), function
