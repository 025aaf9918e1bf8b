"""`convgrade finals`' refusals, before anything is graded."""

from __future__ import annotations

import json

import pytest

from grader.batch.finals import run_finals
from grader.errors import UsageError
from grader.grading.config import GradingConfig
from tests.unit.publish.test_leaderboard import make_result
from tests.unit.publish.test_leaderboard_command import store


def class_of_three(folder):
    return store([make_result("A", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
                  make_result("B", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
                  make_result("C", forward=(1.0, 0.9, 1.1), backward=(1.0, 0.9, 1.1))], folder)


def finals(batch, out, **options):
    return run_finals(batch, out, sandbox_name="process", config=GradingConfig(), progress=False, **options)


def test_the_results_folder_is_never_the_output(tmp_path):
    batch = class_of_three(tmp_path / "batch")
    with pytest.raises(UsageError, match="--out must not be the results folder itself"):
        finals(batch, batch / "results")


def test_without_a_recorded_class_folder_it_asks_for_the_submissions_and_keeps_its_plan(tmp_path):
    batch = class_of_three(tmp_path / "batch")
    with pytest.raises(UsageError, match="cannot find the class's submissions .* give them with --submissions"):
        finals(batch, tmp_path / "out", top=2, seed=3)
    plan = json.loads((tmp_path / "out" / "finals-rounds" / "plan.json").read_text())
    assert plan["seed"] == 3 and plan["calls"] == ["forward", "backward"]
    assert {i: f["board_rank"] for i, f in plan["finalists"].items()} == {"A": 1, "B": 2}
    with pytest.raises(UsageError, match="were started with seed 3"):
        finals(batch, tmp_path / "out", top=2, seed=4)


def test_no_results_folder(tmp_path):
    with pytest.raises(UsageError, match="no results/ folder"):
        finals(tmp_path, tmp_path / "out")
