"""The batch-normalization pack graded for real (its workers, the student's code, the dict
protocol both ways), each example once, in a child Python running the harness as the
process sandbox does.

Every example says what the grader must answer: a message that must appear among its
failed checks, or, for the dict protocol's refusals, the exact message of one check.
The pure parts (references against numerical gradients, each bug against the hidden
cases, the refusals' wording) are in tests/unit/reference/test_batchnorm_reference.py
and tests/unit/harness/test_dict_args.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.config import GradingConfig, TimingSettings
from grader.harness.assignments import cs231n_batchnorm as pack

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "submissions" / "batchnorm"
SEED = 20261128
HIDDEN = 6  # hidden cases: one of each of the pack's shapes

# The harness on each job read from stdin; one JSON report per line. The machine figures
# (measured on a quiet machine where none are cached) are left out: speed_feedback still
# measures a forward and a backward only, which these packs do not call by those names.
CHILD = """
import json, sys
from grader.harness.job import HarnessJob
from grader.harness.run import Run
from grader.harness.timing_phase import TimingPhase
TimingPhase.measure_machine = lambda self, runner, rng, size: None
for job in json.load(sys.stdin):
    print(json.dumps(Run(HarnessJob.from_json(job)).execute()), flush=True)
"""

# (example, a message that must appear among the failed checks; None: every check passes)
EXAMPLES = [
    ("vectorised", None),
    ("loops", None),
    ("bug_stored_eps", r"running_var is wrong .*The running variance holds the batch variance plus eps"),
    ("bug_unbiased_variance", r"out is wrong at x \(4, 5\).*This is the unbiased variance \(dividing by N - 1"),
    ("bug_swapped_momentum", r"running_mean is wrong .*The momentum is applied the wrong way round"),
    ("bug_not_written_back", r"bn_param has no 'running_mean' after batchnorm_forward at x \(4, 5\)"),
    ("hostile_dict_new_entry", None),
    ("hostile_dict_deletes", None),
    ("hostile_dict_object", None),
    ("hostile_dict_huge", None),
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


def grade(examples: list[str], config: GradingConfig, tmp_path_factory, examples_dir: Path = EXAMPLES_DIR,
          ) -> dict[str, dict]:
    """The harness's report on each example (a file of ``examples_dir``), all in one child Python."""
    jobs = []
    for example in examples:
        folder = tmp_path_factory.mktemp(example)
        (folder / "submission").mkdir()
        (folder / "submission" / "layers.py").write_text((examples_dir / f"{example}.py").read_text())
        jobs.append(config.harness_job(SEED) | {
            "submission_root": str(folder / "submission"), "entry": "layers.py", "uid_base": None,
            "isolate_namespaces": False, "scratch_parent": str(folder), "timing_lock": None, "hide_paths": []})
    done = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(jobs), capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return {example: json.loads(line) for example, line in zip(examples, done.stdout.splitlines())}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    config = GradingConfig(assignment="cs231n-batchnorm", hidden_cases=HIDDEN, timing=TimingSettings(enabled=False))
    return grade([example for example, _ in EXAMPLES], config, tmp_path_factory)


def test_every_call_is_timed_the_alt_against_the_graph_backward(tmp_path_factory):
    """The notebook's race: the timing phase times each call of the case (the alt backward
    against the reference's graph backward, REFERENCE_FUNCTIONS); a grading with the
    default timing settings must not fail for calls the speed case leaves out."""
    assert pack.REFERENCE_FUNCTIONS["backward_alt"] == "batchnorm_backward"
    config = GradingConfig(assignment="cs231n-batchnorm", hidden_cases=1, timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))
    report = grade(["vectorised"], config, tmp_path_factory)["vectorised"]
    rows = {row["function"]: row for row in report["timing"]}
    assert list(rows) == list(pack.STUDENT_FUNCTIONS)
    assert all(row["measured"] and row["speedup_vs_reference"] > 0 for row in rows.values()), rows


def _failed(report: dict) -> dict[str, str]:
    return {check["id"]: check["message"] for check in report["checks"] if not check["passed"]}


@pytest.mark.parametrize("example, failure_text", EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_example_gets_the_answer_it_must(example, failure_text, reports):
    report = reports[example]
    failed = _failed(report)
    # The checks the pack's plan lists (the host builds the same list when nothing loads).
    assert [check["id"] for check in report["checks"]] == [check["id"] for check in pack.check_plan(HIDDEN)]
    if example in ("vectorised", "loops"):
        assert failed == {}
        notebook = next(c for c in report["checks"] if c["id"] == "forward_train/notebook-train/out")
        assert "(the notebook expects about beta [11, 12, 13] and gamma [1, 2, 3])" in notebook["message"]
    elif failure_text is not None:
        assert any(re.search(failure_text, message) for message in failed.values()), failed
    # A bug in the forward never fails the backwards by itself: they get the first forward's cache.
    if example.startswith("bug_") and example != "bug_unbiased_variance":
        assert not [i for i in failed if i.startswith("backward")]


@pytest.mark.parametrize("example, check_id, message", DICT_REFUSALS, ids=[e for e, _, _ in DICT_REFUSALS])
def test_a_refused_dict_gets_the_exact_message(example, check_id, message, reports):
    failed = _failed(reports[example])
    assert failed[check_id] == message
    # Only the entries the call writes fail (and the inputs check where a test-mode call's dict was refused):
    # the outputs are still judged, and the next calls get the case's own statistics.
    assert {i.rsplit("/", 1)[1] for i in failed if i != "inputs-unchanged"} <= {"running_mean", "running_var"}


def test_a_test_mode_call_s_refused_dict_is_an_input_change(reports):
    """forward_test writes nothing: a dict it leaves unusable fails the inputs check."""
    inputs = _failed(reports["hostile_dict_deletes"])["inputs-unchanged"]
    assert inputs.startswith("the grader refused bn_param as batchnorm_forward left it at x (200, 3) (given running "
                             "statistics in bn_param): it deleted 'mode'")


def test_a_wrong_running_statistic_is_carried_into_the_test_call(reports):
    """The notebook shares one bn_param between its calls: the test-mode output of a forward
    that never wrote its statistics back is wrong, and says where to look."""
    failed = _failed(reports["bug_not_written_back"])
    assert "forward_test/hidden-3/out" in failed
    assert failed["forward_test/hidden-3/out"].endswith(
        "(it got the running_mean, running_var your earlier calls left in bn_param, which were wrong)")
