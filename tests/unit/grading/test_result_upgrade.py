"""Results stored under schema 1.0 (before packs named their calls) are read as 2.0: the
files in schema_1_0/ are the conv goldens of that schema (fast_strided ranked,
unfinished_none failing), with the golden's masked figures filled in as a real grading
writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from grader import cli as cli_module
from grader.batch.outputs import load_results
from grader.grading.result import GradeResult

STORED = Path(__file__).parent / "schema_1_0"


def stored(name: str) -> dict:
    return json.loads((STORED / f"{name}.json").read_text())


def test_a_1_0_result_gains_call_function_and_layer_and_nothing_else_changes():
    document = stored("fast_strided")
    result = GradeResult.model_validate(document)
    assert result.schema_version == "2.0"
    calls = [(c.call, c.function, c.layer) for c in result.checks]
    assert calls[0] == ("forward", "conv_forward_naive", "cs231n-conv")
    assert ("backward", "conv_backward_naive", "cs231n-conv") in calls
    assert calls[-1] == ("all", "conv_forward_naive, conv_backward_naive", "cs231n-conv")  # 1.0's "both"
    assert [(t.call, t.function) for t in result.timing] == [("forward", "conv_forward_naive"),
                                                             ("backward", "conv_backward_naive")]
    dumped = result.model_dump(mode="json")
    # Fields added to timing rows since (optional, so older results read) are None.
    later = ("between_gradings_cv", "drift_source")
    assert all(row[key] is None for row in dumped["timing"] for key in later)
    for before, after in zip(document["checks"] + document["timing"], dumped["checks"] + dumped["timing"]):
        assert {k: v for k, v in after.items() if k not in ("call", "function", "layer", *later)} == \
            {k: v for k, v in before.items() if k != "function"}
    untouched = set(document) - {"checks", "timing", "schema_version"}
    assert {key: dumped[key] for key in untouched} == {key: document[key] for key in untouched}


def test_a_1_0_result_of_an_assignment_without_a_pack_is_refused_with_a_word_to_regrade(tmp_path):
    document = {**stored("unfinished_none"), "assignment": "cs231n-softmax-2017"}
    with pytest.raises(ValidationError, match="no pack for.*regrade the submission"):
        GradeResult.model_validate(document)
    renamed = {**stored("unfinished_none"), "checks": [{**stored("unfinished_none")["checks"][0], "function": "loss"}]}
    with pytest.raises(ValidationError, match="names the call 'loss'.*regrade"):
        GradeResult.model_validate(renamed)

    messages = []

    class Log:
        def message(self, text: str) -> None:
            messages.append(text)

    (tmp_path / "old.json").write_text(json.dumps(document))
    assert load_results(tmp_path, Log()) == []
    assert "regrade the submission" in messages[0]


def test_convgrade_leaderboard_ranks_stored_1_0_results(tmp_path):
    results = tmp_path / "batch" / "results"
    results.mkdir(parents=True)
    for name in ("fast_strided", "unfinished_none"):
        (results / f"{name}.json").write_text((STORED / f"{name}.json").read_text())
    outcome = CliRunner().invoke(cli_module.cli, ["leaderboard", str(tmp_path / "batch"), "--out", str(tmp_path / "board")],
                                 catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert board["calls"] == ["forward", "backward"]
    entries = {entry["student"]: entry for entry in board["entries"]}
    assert entries["fast_strided"]["status"] == "ranked" and entries["fast_strided"]["rank"] == 1
    assert entries["fast_strided"]["speeds"]["backward"]["speedup_vs_reference"] == 0.75
    assert entries["unfinished_none"]["status"] == "failed_correctness"
    assert "dx is None" in entries["unfinished_none"]["reason"]


def test_the_service_counts_a_stored_1_0_result():
    """The service's store keeps each result's JSON as graded; a term's 1.0 rows still count."""
    from types import SimpleNamespace

    from grader.service.board import counted

    rows = [SimpleNamespace(student_id="s1", result_json=(STORED / "unfinished_none.json").read_text()),
            SimpleNamespace(student_id="s1", result_json=(STORED / "fast_strided.json").read_text())]
    [(row, result)] = counted(rows, "best")
    assert row is rows[1] and result.score == 100 and result.checks[0].function == "conv_forward_naive"
