"""The spatial group-norm pack graded end to end (process sandbox) through the same
sandbox, scoring and leaderboard code as every pack, against golden JSON; and its
messages for the bugs it names, on the pack alone.

Every example says what the grader must answer: its score, and a message that must
appear among its failed checks. After an intended change, run
``pytest tests/test_groupnorm_pack.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_examples_golden import matches_golden

from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_groupnorm as pack
from grader.publish.leaderboard import build_leaderboard
from grader.sandbox import get_sandbox
from reference import groupnorm

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "submissions" / "groupnorm"
GOLDEN_DIR = Path(__file__).parent / "golden" / "groupnorm"
SEED = 20261207

# (example, score, a message that must appear among the failed checks)
EXAMPLES = [
    pytest.param("naive_loops", 100, None, id="naive_loops"),
    pytest.param("vectorised", 100, None, id="vectorised"),
    pytest.param("bug_interleaved_groups", None, r"out is wrong at G \d+ .*Group g held the channels c with "
                 r"c % G == g \(x\.reshape\(N, C // G, G, H, W\)\)", id="bug_interleaved_groups"),
    pytest.param("bug_dgamma_shape", None, r"dgamma has shape \((\d+),\), expected \(1, \1, 1, 1\) .*The values "
                 r"are right but dgamma must have gamma's shape", id="bug_dgamma_shape"),
    pytest.param("bug_group_size", None, r"out is wrong at G 2 \(x \(2, 6, 4, 5\)\).*This is 3 groups of 2 "
                 r"channels: G is the number of groups", id="bug_group_size"),
    pytest.param("bug_eps_outside", None, r"out is wrong .*eps was added to the standard deviation",
                 id="bug_eps_outside"),
]


@pytest.fixture(scope="module")
def groupnorm_config():
    return GradingConfig(assignment="cs231n-spatial-groupnorm", timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))


@pytest.fixture(scope="module")
def graded(groupnorm_config):
    """Each example graded once (the module's tests share them)."""
    sandbox = get_sandbox("process")
    return {param.values[0]: grade_submission(EXAMPLES_DIR / f"{param.values[0]}.py", sandbox, groupnorm_config,
                                              seed=SEED) for param in EXAMPLES}


@pytest.mark.parametrize("example, score, failure_text", EXAMPLES)
def test_groupnorm_example_matches_golden(example, score, failure_text, graded, request):
    result = graded[example]
    assert result.assignment == "cs231n-spatial-groupnorm"
    matches_golden(result, score, failure_text, GOLDEN_DIR / f"{example}.json",
                   request.config.getoption("--update-golden"))


def test_groupnorm_results_make_a_leaderboard(graded):
    board = build_leaderboard(list(graded.values()))
    status = {e.student_id: e.status for e in board.entries}
    assert status["naive_loops"] == status["vectorised"] == "ranked"
    assert all(status[name] == "failed_correctness" for name in status if name.startswith("bug_"))


def test_every_hidden_shape_tells_consecutive_groups_from_the_wrong_ones():
    """Where G is neither 1 nor C, interleaved groups and G taken as the group size are both
    wrong answers the pack names; where they coincide with the right one, it names nothing."""
    for case in pack.hidden_cases(4, len(pack.HIDDEN_SHAPES)):
        args = (case.x, case.gamma, case.beta)
        interleaved = groupnorm.spatial_groupnorm_forward_interleaved(*args, case.G, case.gn_param)
        note = pack.wrong_answer_note(case, "out", interleaved)
        assert ("c % G == g" in note) == (1 < case.G < case.x.shape[1]), case.where
        swapped = groupnorm.spatial_groupnorm_forward(*args, case.x.shape[1] // case.G, case.gn_param)[0]
        assert "G is the number of groups" in pack.wrong_answer_note(case, "out", swapped), case.where
