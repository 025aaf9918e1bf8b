"""The cs231n-a2 bundle graded end to end (process sandbox): whole layers.py files, each
layer by its own pack in one grading, against golden JSON (``--update-golden`` rewrites
them; review the diff). Each example says its score and a message that must appear among
its failed checks; the bundle's layer must agree, check by check, with its pack graded alone.
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

# (example, score, a message that must appear among the failed checks). Equal default
# weights: 50 points a layer, so a whole layer lost is exactly 50.
EXAMPLES = [
    pytest.param("layers_correct", 100, None, id="layers_correct"),
    pytest.param("layers_vectorised", 100, None, id="layers_vectorised"),
    pytest.param("layers_maxpool_bug", None, r"out has shape \(\d+, \d+, \d+, \d+\), expected \(\d+, \d+, \d+, \d+\) "
                 r"at pool 2x2, stride 1", id="layers_maxpool_bug"),
    pytest.param("layers_maxpool_stub", 50, r"^max_pool_backward_naive is still the starter code's stub \(it returned "
                 r"None on every check\): its checks score 0, and the rest of the file is graded as usual$",
                 id="layers_maxpool_stub"),
    pytest.param("layers_conv_missing", 50, r"^conv_forward_naive is not defined in layers_conv_missing\.py$",
                 id="layers_conv_missing"),
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


def test_every_check_is_namespaced_by_its_layer(graded):
    """Ids "<layer>/<the pack's id>", groups "<layer>.<the pack's group>", both layers' checks in
    one result, and the layers' points equal (50 each by default)."""
    checks = graded["layers_correct"].checks
    assert {c.id.split("/")[0] for c in checks} == {"conv", "maxpool"}
    assert all(c.group.split(".")[0] == c.id.split("/")[0] for c in checks)
    assert "conv/backward/hidden-3/dx" in {c.id for c in checks}
    assert "maxpool/inputs-unchanged" in {c.id for c in checks}
    for layer in ("conv", "maxpool"):
        assert total(c.max_score for c in checks if c.id.startswith(layer + "/")) == 50


def test_a_stub_layer_scores_nothing_and_the_other_layer_everything(graded):
    result = graded["layers_maxpool_stub"]
    assert result.failure is None
    conv = [c for c in result.checks if c.id.startswith("conv/")]
    maxpool = [c for c in result.checks if c.id.startswith("maxpool/")]
    assert all(c.status.value == "passed" for c in conv)
    assert all(c.score == 0 for c in maxpool)
    # The inputs check of a stub is a property without a correct answer: no points, and it says why.
    inputs = next(c for c in maxpool if c.id == "maxpool/inputs-unchanged")
    assert "no call of max_pool_forward_naive or max_pool_backward_naive returned a correct output" in inputs.message
    # Only the layers the course races are timed, one row per (layer, call); the stub's are not measured.
    assert [(t.measured, t.reason) for t in result.timing][2:] == 2 * [
        (False, "not timed: the function failed a correctness check")]


def test_a_missing_layer_is_not_a_failure_of_the_whole_file(graded):
    result = graded["layers_conv_missing"]
    assert result.failure is None  # a single pack's grading would say "... not defined"
    assert any("not conv_forward_naive or conv_backward_naive" in note for note in result.notes)
    assert all(c.status.value == "passed" for c in result.checks if c.id.startswith("maxpool/"))


def test_a_layer_grades_as_its_pack_alone(graded):
    """The bundle's maxpool layer of the buggy file and the max-pool pack alone on the same
    functions: the same checks, passed and failed alike, with the same messages (file name aside)."""
    alone = grade_submission(ROOT / "submissions" / "maxpool" / "bug_stride_as_pool.py", get_sandbox("process"),
                             GradingConfig(assignment="cs231n-maxpool", timing=TimingSettings(**TIMING)), seed=SEED)
    in_bundle = {c.id.removeprefix("maxpool/"): c for c in graded["layers_maxpool_bug"].checks
                 if c.id.startswith("maxpool/")}
    assert list(in_bundle) == [c.id for c in alone.checks]

    def text(message: str) -> str:  # line numbers and the file's name differ between the two files
        return re.sub(r'File "[^"]+", line \d+', "File", message)

    for check in alone.checks:
        mine = in_bundle[check.id]
        assert (mine.status, mine.group, text(mine.message)) == (check.status, "maxpool." + check.group,
                                                                 text(check.message)), check.id


def test_layer_weights_come_from_the_configuration(graded):
    """A course weighting the convolution 80 and max pooling 20: the stub file (right
    convolution, max pooling not started) then scores 80, each layer's groups scaled inside."""
    config = GradingConfig(assignment="cs231n-a2", timing=TimingSettings(**TIMING),
                           rubric={"layers": {"conv": {"weight": 80}, "maxpool": {"weight": 20}}})
    raw = [{"id": c.id, "name": c.name, "call": c.call, "function": c.function, "layer": c.layer, "group": c.group,
            "passed": c.status.value == "passed", "message": c.message} for c in graded["layers_maxpool_stub"].checks]
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
    assert {c.id.split("/")[0] for c in result.checks[1:]} == {"conv", "maxpool"}
    variant = result.what_if.variants[0]
    assert [r.rule for r in variant.repairs] == ["python2_print"]
    assert variant.passed == variant.total == len(assignments.get("cs231n-a2").check_plan(bundle_config.hidden_cases))
    assert result.what_if.summary.startswith("With this 1 mechanical fix, your layers would pass 56 of 56 checks")


def test_bundle_results_make_a_leaderboard(graded):
    """One board over the bundle's results: its calls are each timed layer's, named with the
    layer; the right files rank, the one whose max pooling is wrong does not."""
    board = build_leaderboard(list(graded.values()))
    assert board.assignment == "cs231n-a2"
    assert len(board.calls) == 4 and all("maxpool" in call or "conv" in call for call in board.calls)
    status = {e.student_id: e.status for e in board.entries}
    assert status["layers_correct"] == status["layers_vectorised"] == "ranked"
    assert status["layers_maxpool_bug"] == status["layers_maxpool_stub"] == "failed_correctness"


def test_a_stub_that_raises_and_a_course_that_times_one_layer():
    """The convolution raises NotImplementedError: its checks say it is the stub. The course
    times max pooling alone: the result has its two timing rows and none for the convolution."""
    config = GradingConfig(assignment="cs231n-a2", timing=TimingSettings(**TIMING, layers=["maxpool"]))
    result = grade_submission(EXAMPLES_DIR / "layers_conv_notimplemented.py", get_sandbox("process"), config,
                              seed=SEED)
    assert result.score == 50
    conv = [c for c in result.checks if c.layer == "cs231n-conv" and c.call != "all"]
    assert conv and all(c.message == f"{c.function} is still the starter code's stub (it raised NotImplementedError "
                        "on every check): its checks score 0, and the rest of the file is graded as usual" for c in conv)
    assert [(t.layer, t.call, t.measured) for t in result.timing] == [
        ("cs231n-maxpool", "maxpool/forward", True), ("cs231n-maxpool", "maxpool/backward", True)]
