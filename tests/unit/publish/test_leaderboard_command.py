"""`convgrade leaderboard RESULTS_DIR --out DIR`: every leaderboard output rebuilt from
stored results, with grade-all's roster and anonymize options; and the ranking target
on a class of 300 published through it."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from grader import cli as cli_module
from tests.unit.publish.test_leaderboard import class_of_300, make_result


def store(results, folder: Path) -> Path:
    results_dir = folder / "results"
    results_dir.mkdir(parents=True)
    for result in results:
        (results_dir / f"{result.submission.id}.json").write_text(result.model_dump_json(indent=2))
    return folder


def run(*args: str):
    return CliRunner().invoke(cli_module.cli, ["leaderboard", *args], catch_exceptions=False)


def test_a_class_of_300_published_with_the_command(tmp_path):
    batch = store(class_of_300(seed=9), tmp_path / "batch")
    outcome = run(str(batch), "--out", str(tmp_path / "board"))
    assert outcome.exit_code == 0, outcome.output
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    ranked = [entry for entry in board["entries"] if entry["status"] == "ranked"]
    assert len(ranked) == 300
    ranks = [entry["rank"] for entry in ranked]
    assert len(set(ranks)) >= 250
    figures = [(e["speeds"]["forward"], e["speeds"]["backward"]) for e in ranked]
    speeds = [math.sqrt(f["speedup_vs_reference"] * b["speedup_vs_reference"]) for f, b in figures]
    lows = [math.sqrt(f["ci_low"] * b["ci_low"]) for f, b in figures]
    highs = [math.sqrt(f["ci_high"] * b["ci_high"]) for f, b in figures]
    for i in range(300):
        for j in range(300):
            if speeds[i] > speeds[j]:
                assert ranks[i] <= ranks[j]
            if i != j and (highs[i] < lows[j] or highs[j] < lows[i]):
                assert ranks[i] != ranks[j]
    for name in ("leaderboard.md", "leaderboard.html", "scores.csv"):
        assert (tmp_path / "board" / name).is_file(), name
    assert "300 results: 300 ranked" in outcome.output


def test_roster_anonymize_and_gradescope_files(tmp_path):
    results = [make_result("alice", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
               make_result("bob", forward=(1.0, 0.9, 1.1), backward=(1.0, 0.9, 1.1))]
    batch = store(results, tmp_path / "batch")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nalice,Alice A.\nbob,Bob B.\n")
    named = run(str(batch / "results"), "--out", str(tmp_path / "named"), "--roster", str(roster),
                "--format", "gradescope")
    assert named.exit_code == 0, named.output
    board = json.loads((tmp_path / "named" / "leaderboard.json").read_text())
    assert [(e["rank"], e["student"], e["student_id"]) for e in board["entries"]] == [
        (1, "Alice A.", "alice"), (2, "Bob B.", "bob")]
    assert (tmp_path / "named" / "gradescope" / "alice" / "results.json").is_file()

    hidden = run(str(batch), "--out", str(tmp_path / "hidden"), "--anonymize", "--salt", "s3cret")
    assert hidden.exit_code == 0, hidden.output
    text = (tmp_path / "hidden" / "leaderboard.json").read_text()
    assert "alice" not in text and "Alice" not in text
    assert [e["student"].startswith("student-") for e in json.loads(text)["entries"]] == [True, True]


def test_anonymize_without_salt_is_a_usage_error(tmp_path):
    batch = store([make_result("alice")], tmp_path / "batch")
    outcome = CliRunner().invoke(cli_module.cli, ["leaderboard", str(batch), "--out", str(tmp_path / "o"),
                                                  "--anonymize"])
    assert outcome.exit_code != 0
    assert "salt" in str(outcome.exception) + outcome.output
