"""`convgrade finals` end to end on a small class (process backend, the in-process Dask
cluster with a slot per core): rounds in seeded orders, no two gradings of the finals
overlapping on a host, resume, the stored results untouched, and the board taking the
finalists' order."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.batch.finals import round_order
from grader.batch.grade_all import grade_all
from grader.errors import UsageError

pytestmark = pytest.mark.slow

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "finals.schema.json"


def make_class(folder: Path, examples: Path) -> None:
    """Three correct examples and a variant of one with a small difference (the padding call)."""
    folder.mkdir()
    for name in ("fast_strided", "einsum_positions", "naive_loops"):
        (folder / f"{name}.py").write_text((examples / f"{name}.py").read_text())
    strided = (examples / "fast_strided.py").read_text()
    variant = strided.replace("x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                              "x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode='constant')")
    assert variant != strided
    (folder / "strided_variant.py").write_text(variant)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def finals(*args: str):
    return CliRunner().invoke(cli_module.cli, ["finals", *args], catch_exceptions=False)


def test_finals_rounds_resume_and_the_board(tmp_path, quick_config, examples_dir):
    make_class(tmp_path / "class", examples_dir)
    out = tmp_path / "out"
    grade_all(tmp_path / "class", out, sandbox_name="process", config=quick_config, seed=1, progress=False)
    config = tmp_path / "quick.json"
    config.write_text(quick_config.model_dump_json())
    stored = digests(out / "results")

    first = finals(str(out), "--out", str(out), "--top", "3", "--rounds", "2", "--seed", "5", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert "0 round(s) already done, 2 to run" in first.output
    document = json.loads((out / "finals.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    ids = sorted(e["student_id"] for e in document["entries"])
    assert len(ids) >= 3 and set(ids) <= {"fast_strided", "einsum_positions", "naive_loops", "strided_variant"}
    assert document["seed"] == 5 and [r["round"] for r in document["rounds"]] == [1, 2]
    for finals_round in document["rounds"]:
        assert finals_round["order"] == round_order(ids, 5, finals_round["round"])
        assert [g["student_id"] for g in finals_round["gradings"]] == finals_round["order"]
    # Unranked (rank None) only with a reason: a round without a figure (contended twice, a grader failure).
    assert all(e["rank"] is not None for e in document["entries"]), [
        (e["student_id"], e["reason"]) for e in document["entries"]]
    assert [e["rank"] for e in document["entries"]] == sorted(e["rank"] for e in document["entries"])
    assert all(e["rounds_timed"] == 2 for e in document["entries"]), document["entries"]

    # Two slots on this host, two rounds submitted at once: still no two gradings at the same time.
    gradings = sorted((g for r in document["rounds"] for g in r["gradings"]), key=lambda g: (g["host"], g["started"]))
    for before, after in zip(gradings, gradings[1:]):
        if before["host"] == after["host"]:
            assert after["started"] >= before["finished"], (before, after)
    assert (out / "finals.md").read_text().startswith("# Finals: cs231n-conv\n")
    assert 'id="method"' in (out / "finals.html").read_text()
    assert digests(out / "results") == stored

    # Resume: round 2 lost (as if interrupted during it) is run again, round 1 is kept as it is.
    rounds_dir = out / "finals-rounds"
    round_1 = (rounds_dir / "round-1.json").read_bytes()
    (rounds_dir / "round-2.json").unlink()
    again = finals(str(out), "--out", str(out), "--rounds", "2", "--config", str(config))
    assert again.exit_code == 0, again.output
    assert "1 round(s) already done, 1 to run" in again.output
    assert (rounds_dir / "round-1.json").read_bytes() == round_1
    redone = json.loads((rounds_dir / "round-2.json").read_text())
    assert redone["order"] == round_order(ids, 5, 2)
    with pytest.raises(UsageError, match="were started with seed 5; rerun with that seed"):
        finals(str(out), "--out", str(out), "--seed", "6", "--config", str(config))
    assert digests(out / "results") == stored

    # The board marks the finalists and takes their order.
    board = CliRunner().invoke(cli_module.cli, ["leaderboard", str(out), "--out", str(out)], catch_exceptions=False)
    assert board.exit_code == 0, board.output
    leaderboard = json.loads((out / "leaderboard.json").read_text())
    assert leaderboard["finals"] == "finals.html"
    final_order = [e["student_id"] for e in json.loads((out / "finals.json").read_text())["entries"]]
    marked = [e["student_id"] for e in leaderboard["entries"] if e["finals_rank"] is not None]
    assert marked == final_order
    assert "\u2605 finals #1" in (out / "leaderboard.html").read_text()
