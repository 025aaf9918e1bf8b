"""The batch-normalization pack graded end to end (process sandbox, the host's scoring
and result), each example once, against golden JSON: its workers, the student's code and
the dict protocol both ways run for real.

Every example says what the grader must answer: its score, and a message that must appear
among its failed checks; for the dict protocol's refusals, the exact message of one check.
The pure parts (references against numerical gradients, each bug against the hidden
cases, the refusals' wording) are in tests/unit/reference/test_batchnorm_reference.py and
tests/unit/harness/test_dict_args.py. After an intended change, run
``pytest tests/test_batchnorm_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_batchnorm as pack
from grader.sandbox import get_sandbox

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "submissions" / "batchnorm"
GOLDEN_DIR = Path(__file__).parent / "golden" / "batchnorm"
SEED = 20261128
QUICK_TIMING = TimingSettings(size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1)


def grade(examples: list[str], assignment: str, examples_dir: Path = EXAMPLES_DIR) -> dict:
    """Each example's GradeResult, graded with the quick timing."""
    config = GradingConfig(assignment=assignment, timing=QUICK_TIMING)
    sandbox = get_sandbox("process")
    return {example: grade_submission(examples_dir / f"{example}.py", sandbox, config, seed=SEED)
            for example in examples}


def failed(result) -> dict[str, str]:
    return {check.id: check.message for check in result.checks if check.status.value == "failed"}


# (example, score, a message that must appear among the failed checks; None: every check passes)
EXAMPLES = [
    ("vectorised", 100, None),
    ("loops", 100, None),
    ("bug_stored_eps", None, r"running_var is wrong .*The running variance holds the batch variance plus eps"),
    ("bug_unbiased_variance", None, r"out is wrong at x \(4, 5\).*This is the unbiased variance \(dividing by N - 1"),
    ("bug_swapped_momentum", None, r"running_mean is wrong .*The momentum is applied the wrong way round"),
    ("bug_not_written_back", None, r"bn_param has no 'running_mean' after batchnorm_forward at x \(4, 5\)"),
    ("hostile_dict_new_entry", None, r"it added 'batch_mean', which it may not write"),
    ("hostile_dict_deletes", None, r"it deleted 'mode'"),
    ("hostile_dict_object", None, r"'running_mean_history' holds a list"),
    ("hostile_dict_huge", None, r"'running_mean' is a float64 array of shape \(1000000000,\)"),
    ("hostile_dict_int_statistics", None, r"running_mean has dtype int64, expected float64 at x \(4, 5\)"),
    ("hostile_dict_wide_statistics", None, r"running_mean has shape \(250000,\), expected \(5,\) at x \(4, 5\)"),
]
WHERE = "at x (4, 5) (no running statistics in bn_param)"
REFUSED = f"the grader refused bn_param as batchnorm_forward left it {WHERE}: "
# (example, check id, its exact message)
DICT_REFUSALS = [
    ("hostile_dict_new_entry", "forward_train/hidden-1/running_mean",
     REFUSED + "it added 'batch_mean', which it may not write (it may write 'running_mean' and 'running_var'; keep "
               "other values in the cache)"),
    ("hostile_dict_deletes", "forward_train/hidden-1/running_var", REFUSED + "it deleted 'mode'"),
    ("hostile_dict_object", "forward_train/hidden-1/running_mean",
     REFUSED + "'running_mean_history' holds a list (only numbers, strings, booleans, None and float arrays may stay "
               "in bn_param)"),
    ("hostile_dict_huge", "forward_train_again/hidden-1/running_mean",
     REFUSED + "'running_mean' is a float64 array of shape (1000000000,), larger than the grader takes back "
               "(2440192 bytes in all)"),
]


@pytest.fixture(scope="module")
def graded() -> dict:
    return grade([example for example, _, _ in EXAMPLES], "cs231n-batchnorm")


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES, ids=[e for e, _, _ in EXAMPLES])
def test_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-batchnorm"
    # The checks the pack's plan lists (the host builds the same list when nothing loads).
    assert [check.id for check in result.checks] == [check["id"] for check in pack.check_plan(len(pack.HIDDEN_SHAPES))]
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json", request.config.getoption("--update-golden"))
    if example in ("vectorised", "loops"):
        train = next(check for check in result.checks if check.id == "forward_train/notebook-train")
        assert "(the notebook expects about beta [11, 12, 13] and gamma [1, 2, 3])" in train.message
    # A bug in the forward never fails the backwards by itself: they get the first forward's cache.
    if example.startswith("bug_") and example != "bug_unbiased_variance":
        assert not [i for i in failed(result) if i.startswith("backward")]


@pytest.mark.parametrize("example, check_id, message", DICT_REFUSALS, ids=[e for e, _, _ in DICT_REFUSALS])
def test_a_refused_dict_gets_the_exact_message(example, check_id, message, graded):
    found = failed(graded[example])
    assert found[check_id] == message
    # Only the entries the calls write fail, and the test-mode outputs that read them (and the inputs check
    # where a test-mode call's dict was refused): the train outputs are still judged.
    assert {i for i in found if not i.startswith("forward_test/") and i != "inputs-unchanged"
            and i.rsplit("/", 1)[1] not in {"running_mean", "running_var"}} == set()


# What a train call leaves that the grader cannot take back or send on: its next calls must
# not get the reference's running statistics in its place (they are the expected answers of
# the earlier checks), so every test-mode output fails, as bug_not_written_back's do.
UNREADABLE_WRITES = ["bug_not_written_back", "hostile_dict_new_entry", "hostile_dict_object",
                     "hostile_dict_int_statistics", "hostile_dict_wide_statistics"]


@pytest.mark.parametrize("example", UNREADABLE_WRITES)
def test_a_test_call_never_gets_the_reference_s_statistics(example, graded):
    found = failed(graded[example])
    tests = [check["id"] for check in pack.check_plan(len(pack.HIDDEN_SHAPES)) if check["id"].startswith("forward_test/")]
    assert tests and all(i in found for i in tests), sorted(set(tests) - set(found))
    assert "inputs-unchanged" not in found or example == "hostile_dict_object"
    if example != "bug_not_written_back":  # says why, and names no bug the student's code does not have
        assert found["forward_test/hidden-1"].endswith(
            "(it got no running_mean in bn_param: the grader could not take back what your earlier calls left there)"
            if "statistics" in example else
            "(it got no running_mean, running_var in bn_param: the grader could not take back what your earlier "
            "calls left there)"), found["forward_test/hidden-1"]
        assert "came back as they went in" not in found["forward_test/hidden-1"]


def test_a_test_mode_call_s_refused_dict_is_an_input_change(graded):
    """forward_test writes nothing: a dict it leaves unusable fails the inputs check."""
    inputs = failed(graded["hostile_dict_deletes"])["inputs-unchanged"]
    assert inputs.startswith("the grader refused bn_param as batchnorm_forward left it at x (200, 3) (given running "
                             "statistics in bn_param): it deleted 'mode'")


def test_a_wrong_running_statistic_is_carried_into_the_test_call(graded):
    """The notebook shares one bn_param between its calls: the test-mode output of a forward
    that never wrote its statistics back is wrong, and says where to look."""
    found = failed(graded["bug_not_written_back"])
    assert found["forward_test/hidden-3"].endswith(
        "(it got the running_mean, running_var your earlier calls left in bn_param, which were wrong)")


def test_every_call_is_timed_the_alt_against_the_graph_backward(graded):
    """The notebook's race: the timing phase times each call of the case, the alt backward
    against the reference's graph backward (REFERENCE_FUNCTIONS)."""
    assert pack.REFERENCE_FUNCTIONS["backward_alt"] == "batchnorm_backward"
    rows = {row.call: row for row in graded["vectorised"].timing}
    assert list(rows) == list(pack.STUDENT_FUNCTIONS)
    assert rows["backward_alt"].function == "batchnorm_backward_alt"
    assert all(row.measured and row.speedup_vs_reference > 0 for row in rows.values()), rows
