"""`convgrade finals`' refusals, before anything is graded."""

from __future__ import annotations

import json

import pytest

from grader.batch.finals import run_finals
from grader.errors import UsageError
from grader.grading.config import GradingConfig
from tests.unit.publish.test_leaderboard import make_result
from tests.unit.publish.test_leaderboard_command import store


def class_of_three(folder, config_hash=None, sha256=None):
    results = [make_result("A", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
               make_result("B", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
               make_result("C", forward=(1.0, 0.9, 1.1), backward=(1.0, 0.9, 1.1))]
    results = [r.model_copy(update={"config_hash": config_hash or GradingConfig().config_hash()}) for r in results]
    if sha256:
        results = [r.model_copy(update={"submission": r.submission.model_copy(update={
            "sha256": sha256.get(r.submission.id, r.submission.sha256)})}) for r in results]
    return store(results, folder)


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


def test_results_graded_with_another_configuration_are_refused_before_any_plan(tmp_path):
    batch = class_of_three(tmp_path / "batch", config_hash="c0ffee")
    want = GradingConfig().config_hash()
    with pytest.raises(UsageError) as refused:
        finals(batch, tmp_path / "out", top=2, seed=3)
    assert str(refused.value) == (f"the stored results were graded with configuration c0ffee, but these finals' "
                                  f"configuration is {want}: give the --config the class was graded with")
    assert not (tmp_path / "out" / "finals-rounds" / "plan.json").exists()


def test_the_plan_records_the_grading_and_refuses_to_resume_after_a_regrade(tmp_path):
    batch = class_of_three(tmp_path / "batch")
    with pytest.raises(UsageError, match="cannot find the class's submissions"):
        finals(batch, tmp_path / "out", top=2, seed=3)
    state = tmp_path / "out" / "finals-rounds"
    plan = json.loads((state / "plan.json").read_text())
    assert plan["config_hash"] == GradingConfig().config_hash() and plan["seed"] == 3
    assert set(plan["finalists"]) == {"A", "B"} and all(len(f["sha256"]) == 64 for f in plan["finalists"].values())
    regraded = class_of_three(tmp_path / "regraded", sha256={"B": "cd" * 32})
    with pytest.raises(UsageError) as refused:
        finals(regraded, tmp_path / "out", top=2)
    assert str(refused.value) == (f"the finals in {tmp_path / 'out'} were planned for other gradings (finalists "
                                  f"regraded since: B): remove {state}/ or choose another --out")


def test_a_corrupt_round_file_or_another_plans_round_is_run_again(tmp_path):
    from grader.batch.finals import _completed_rounds
    from grader.batch.progress import BatchLog
    from grader.publish.finals import FinalsGrading, FinalsRound

    plan = {"seed": 3, "config_hash": "h1", "finalists": {"A": {"sha256": "a" * 64}, "B": {"sha256": "b" * 64}}}

    def round_file(number, **changes):
        fields = {"round": number, "order": ["B", "A"], "host": "h", "seed": 3, "config_hash": "h1",
                  "sha256": {"A": "a" * 64, "B": "b" * 64},
                  "gradings": [FinalsGrading(student_id=s, host="h", started=1.0, finished=2.0, figure=1.0,
                                             speedups={"forward": 1.0}) for s in "BA"]} | changes
        (tmp_path / f"round-{number}.json").write_text(FinalsRound(**fields).model_dump_json())

    round_file(1)
    round_file(2, config_hash="h2")
    round_file(3, sha256={"A": "a" * 64, "B": "c" * 64})
    (tmp_path / "round-4.json").write_text('{"round": 4, "ord')
    assert sorted(_completed_rounds(tmp_path, plan, BatchLog(False))) == [1]


def test_a_plan_of_another_configuration_refuses_to_resume(tmp_path):
    batch = class_of_three(tmp_path / "batch")
    with pytest.raises(UsageError, match="cannot find the class's submissions"):
        finals(batch, tmp_path / "out", top=2, seed=3)
    state = tmp_path / "out" / "finals-rounds"
    plan = json.loads((state / "plan.json").read_text())
    (state / "plan.json").write_text(json.dumps(plan | {"config_hash": "0ld"}))
    with pytest.raises(UsageError) as refused:
        finals(batch, tmp_path / "out", top=2)
    assert str(refused.value) == (f"the finals in {tmp_path / 'out'} were planned for other gradings (configuration "
                                  f"0ld, now {GradingConfig().config_hash()}): remove {state}/ or choose another --out")


def test_the_command_names_each_unranked_finalist_and_why(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import grader.batch.finals as finals_module
    from grader import cli as cli_module
    from tests.unit.publish.test_finals_board import finals_of

    batch = class_of_three(tmp_path / "batch")
    done = finals_of({"A": [3.0, 3.3], "B": [1.8, None], "C": [2.0, 2.2]}, {"A": 1, "B": 2, "C": 3})
    monkeypatch.setattr(finals_module, "run_finals", lambda *args, **kwargs: done)
    answer = CliRunner().invoke(cli_module.cli, ["finals", str(batch), "--out", str(tmp_path / "out"),
                                                 "--rounds", "2", "--assignment", "cs231n-conv"],
                                catch_exceptions=False)
    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines()[-2:] == [f"finals: 3 finalists, 2 of 2 rounds: {tmp_path / 'out' / 'finals.md'}",
                                               "unranked: B: timed in 1 of 2 planned rounds"]
