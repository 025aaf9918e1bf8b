"""A class's outputs and options: rosters and their warnings, the Canvas gradebook,
submission times, anonymized boards with a staff map, --only, and the small things
(every duplicate at once, a lowered --jobs said aloud, a clean Ctrl-C)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import grader.batch.run as batch_run
import grader.batch.executor as executor
import grader.sandbox.process as process_backend
from grader.batch.grade_all import BatchInterrupted, grade_all
from grader.cli import cli
from grader.errors import UsageError
from grader.grading.grade import grade_submission as real_grade_submission
from grader.grading.grade import grader_failure_result
from grader.publish.leaderboard import pseudonym
from grader.grading.result import GradeResult
from grader.sandbox import get_sandbox
from test_batch import (EXAMPLES, SLEEPER, counted, ctrl_c, harness_children, quick_config_file, read_json, schema,
                        stored_result)
from tests.unit.batch.test_grade_all import small_class
from tests.unit.publish.test_gradebook import CANVAS_EXPORT

IDS = ["ada", "alan", "grace", "stranger"]
SUBMITTED = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, quick_config):
    """Four students graded for real: two correct, one unfinished backward, one syntax error."""
    base = tmp_path_factory.mktemp("outputs")
    folder = small_class(base / "subs", ada="fast", alan="broken", stranger="fast",
                         grace=(EXAMPLES / "unfinished_none.py").read_text())
    for path in folder.iterdir():
        os.utime(path, (SUBMITTED.timestamp(), SUBMITTED.timestamp()))
    out = base / "out"
    grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=2, progress=False)
    return folder, out


@pytest.fixture
def copy(graded, tmp_path):
    folder, out = graded
    shutil.copytree(folder, tmp_path / "subs")
    shutil.copytree(out, tmp_path / "out")
    for path in (tmp_path / "subs").iterdir():  # copytree keeps times; be explicit about it
        os.utime(path, (SUBMITTED.timestamp(), SUBMITTED.timestamp()))
    return tmp_path / "subs", tmp_path / "out"


def rerun(copy, monkeypatch, quick_config, **options):
    """Publish again from the stored results (a fake grade_submission keeps reruns cheap)."""
    folder, out = copy
    calls = counted(monkeypatch, stored_result(out))
    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, progress=False, **options)
    return summary, calls


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


# ------------------------------------------------------------- reasons and boards


def test_the_class_board_has_real_reasons_and_a_forward_board(graded):
    _, out = graded
    board = read_json(out / "leaderboard.json")
    jsonschema.validate(board, schema("leaderboard.schema.json"))
    reasons = {e["student_id"]: e["reason"] for e in board["entries"]}
    assert reasons["ada"] is None and reasons["stranger"] is None
    assert reasons["alan"].startswith("syntax error in alan.py")
    assert reasons["grace"].startswith("backward unfinished: dx is None")
    forward = next(b for b in board["function_boards"] if b["call"] == "forward")
    backward = next(b for b in board["function_boards"] if b["call"] == "backward")
    # grace's backward is unfinished, but her forward is correct and timed: she is on the forward board.
    assert {e["student_id"] for e in forward["entries"]} == {"ada", "stranger", "grace"}
    assert {e["student_id"] for e in backward["entries"]} == {"ada", "stranger"}
    page = (out / "leaderboard.html").read_text()
    assert "failed a correctness check" not in page and 'id="forward-board"' in page


def test_course_title_and_submission_times_reach_the_outputs(copy, monkeypatch, quick_config):
    titled = quick_config.model_copy(update={"course": quick_config.course.model_copy(
        update={"title": "CS231n Spring 2025"})})
    assert titled.config_hash() == quick_config.config_hash()  # a title never regrades anyone
    summary, calls = rerun(copy, monkeypatch, titled)
    assert calls.calls == [] and summary.counts["skipped"] == 4
    _, out = copy
    board = read_json(out / "leaderboard.json")
    assert board["title"] == "CS231n Spring 2025"
    assert "<h1>Leaderboard: CS231n Spring 2025</h1>" in (out / "leaderboard.html").read_text()
    assert {e["submitted_at"] for e in board["entries"]} == {"2025-03-01T09:30:00+00:00"}
    assert {row["submitted_at"] for row in csv_rows(out / "scores.csv")} == {"2025-03-01T09:30:00+00:00"}


# ---------------------------------------------------------------- rosters, gradebook


def test_plain_roster_names_times_and_warnings(copy, monkeypatch, quick_config, capsys):
    folder, out = copy
    roster = folder.parent / "roster.csv"
    roster.write_text("id,name,submitted_at\nada,Ada Lovelace,2025-02-28T23:59:00Z\nalan,Alan Turing,\n"
                      "grace,Grace Hopper,\nkatherine,Katherine Johnson,\n")
    summary, _ = rerun(copy, monkeypatch, quick_config, roster=roster)
    rows = {row["student_id"]: row for row in csv_rows(out / "scores.csv")}
    assert rows["ada"]["name"] == "Ada Lovelace" and rows["stranger"]["name"] == ""
    assert rows["ada"]["submitted_at"] == "2025-02-28T23:59:00+00:00"  # the roster's time wins
    assert rows["alan"]["submitted_at"] == "2025-03-01T09:30:00+00:00"  # else the file's
    assert summary.notes[-2:] == [
        f"1 submission(s) not on the roster {roster} (no name, not in the gradebook import): stranger",
        "1 roster id(s) with no submission: katherine",
    ]
    assert not (out / "canvas_gradebook.csv").exists()  # a plain roster has no Canvas ids


def test_canvas_export_as_roster_writes_the_canvas_gradebook(copy, monkeypatch, quick_config):
    folder, out = copy
    roster = folder.parent / "grades.csv"
    roster.write_text(CANVAS_EXPORT)
    config = quick_config.model_copy(update={"course": quick_config.course.model_copy(
        update={"gradebook_column": "Conv layers (12345)"})})
    summary, _ = rerun(copy, monkeypatch, config, roster=roster)
    assert "canvas_gradebook.csv" in summary.outputs
    lines = (out / "canvas_gradebook.csv").read_text().splitlines()
    assert lines == [
        "Student,ID,SIS User ID,SIS Login ID,Section,Conv layers (12345)",
        "Points Possible,,,,,100",
        '"Lovelace, Ada",1001,A0001,ada,CS231N-01,100',
        '"Turing, Alan",1002,A0002,alan,CS231N-02,0',
        f'"Hopper, Grace",1003,A0003,grace,CS231N-01,{_score(out, "grace")}',
    ]
    names = {e["student_id"]: e["student"] for e in read_json(out / "leaderboard.json")["entries"]}
    assert names["ada"] == "Lovelace, Ada" and names["stranger"] == "stranger"
    assert any("not on the roster" in note and "stranger" in note for note in summary.notes)


def _score(out: Path, student_id: str) -> str:
    score = read_json(out / "results" / f"{student_id}.json")["score"]
    return f"{score:g}"


# ---------------------------------------------------------------------- anonymized


def test_anonymized_run_writes_a_staff_map_and_tells_each_student_their_pseudonym(copy, monkeypatch, quick_config):
    folder, out = copy
    summary, _ = rerun(copy, monkeypatch, quick_config, anonymize=True, anonymize_salt="pepper",
                       output_format="gradescope", hide_unranked_scores=True)
    staff_map = out / "staff" / "pseudonyms.csv"
    assert stat.S_IMODE(staff_map.stat().st_mode) == 0o600
    assert stat.S_IMODE(staff_map.parent.stat().st_mode) == 0o700
    rows = {row["student_id"]: row["pseudonym"] for row in csv_rows(staff_map)}
    assert rows == {i: pseudonym(i, "pepper") for i in IDS}
    for student_id, alias in rows.items():
        result = GradeResult.model_validate_json((out / "results" / f"{student_id}.json").read_bytes())
        assert [n for n in result.notes if alias in n] == [
            f"On the anonymized leaderboard you are {alias} (your row: leaderboard.html#row-{alias})."]
        feedback = read_json(out / "gradescope" / student_id / "results.json")["output"]
        assert alias in feedback
        assert f'id="row-{alias}"' in (out / "leaderboard.html").read_text()
    board = read_json(out / "leaderboard.json")
    assert [e["score"] for e in board["entries"] if e["rank"] is None] == [None, None]
    for name in ("leaderboard.json", "leaderboard.md", "leaderboard.html"):
        text = (out / name).read_text()
        for student_id in IDS:  # as a word: "gradable" holds "ada"
            assert not re.search(rf"(?<![a-z0-9_]){student_id}(?![a-z0-9_])", text), f"{student_id} leaks into {name}"

    # A later run without --anonymize drops the stale pseudonym from every result.
    rerun(copy, monkeypatch, quick_config)
    result = GradeResult.model_validate_json((out / "results" / "ada.json").read_bytes())
    assert not any("anonymized" in note for note in result.notes)


# --------------------------------------------------------------------------- --only


def test_only_regrades_the_named_students_and_rebuilds_the_outputs(copy, monkeypatch, quick_config):
    folder, out = copy
    before = read_json(out / "leaderboard.json")
    (folder / "alan.py").write_text((EXAMPLES / "fast_strided.py").read_text())  # alan fixed his file
    (folder / "ada.py").write_text((EXAMPLES / "unfinished_none.py").read_text())  # changed, but not asked for
    calls = counted(monkeypatch)
    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, progress=False,
                        only=["Alan,grace"])
    assert calls.names == ["alan.py", "grace.py"]
    assert {s.id: s.status for s in summary.students} == {
        "ada": "skipped", "alan": "graded", "grace": "graded", "stranger": "skipped"}
    board = read_json(out / "leaderboard.json")
    assert board["generated_at"] >= before["generated_at"]
    statuses = {e["student_id"]: e["status"] for e in board["entries"]}
    assert statuses == {"ada": "ranked", "alan": "ranked", "stranger": "ranked", "grace": "failed_correctness"}
    assert {row["student_id"]: row["score"] for row in csv_rows(out / "scores.csv")}["alan"] == "100"


def test_only_refuses_unknown_ids_before_grading_anyone(copy, monkeypatch, quick_config):
    folder, out = copy
    calls = counted(monkeypatch)
    with pytest.raises(UsageError, match="--only: no submission for nobody, zed"):
        grade_all(folder, out, sandbox_name="process", config=quick_config, progress=False,
                  only=["ada", "zed,nobody"])
    assert calls.calls == []


def test_cli_only_and_public_board_options(copy, quick_config, tmp_path, monkeypatch):
    folder, out = copy
    counted(monkeypatch, stored_result(out))
    result = CliRunner().invoke(cli, ["grade-all", str(folder), "--out", str(out), "--only", "grace",
                                      "--hide-unranked-scores", "--config",
                                      str(quick_config_file(tmp_path / "c.json", quick_config))])
    assert result.exit_code == 0, result.output
    assert "regrading only grace" in result.output
    entries = read_json(out / "leaderboard.json")["entries"]
    assert [e["score"] for e in entries if e["rank"] is None] == [None, None]


# -------------------------------------------------------------------- small things


def test_a_lowered_jobs_count_is_said_on_stderr_even_when_quiet(tmp_path, quick_config, capsys, monkeypatch):
    folder = small_class(tmp_path / "subs", a="broken")
    counted(monkeypatch)
    summary = grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, progress=False,
                        jobs=len(os.sched_getaffinity(0)) + 3)
    err = capsys.readouterr().err
    assert f"--jobs {summary.jobs + 3} lowered to {summary.jobs}, the usable cores" in err


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's folder for this test alone: what the grading leaves there is ours to see."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def convgrade_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("convgrade-"))


def test_ctrl_c_while_the_harness_starts_leaves_no_scratch(tmp_path, private_tmp, quick_config, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(process_backend.subprocess, "Popen", interrupted)
    with pytest.raises(KeyboardInterrupt):
        real_grade_submission(EXAMPLES / "fast_strided.py", get_sandbox("process"), quick_config)
    assert convgrade_leftovers(private_tmp) == []


def test_ctrl_c_while_submitting_stops_what_started_and_cleans_up(tmp_path, private_tmp, quick_config, monkeypatch):
    """Ctrl-C lands while the batch is still handing students to the executor."""
    # a's module sleeps at import: its grading runs far longer than the test unless it is stopped.
    folder = small_class(tmp_path / "subs", a=SLEEPER, b="fast", c="fast")
    real_submit, submitted = batch_run.BatchRun._submit, []

    def submit_then_ctrl_c(self, executor, student, attempt):
        submitted.append(student.id)
        if len(submitted) == 2:
            time.sleep(0.5)  # the first grading is under way
            raise KeyboardInterrupt
        real_submit(self, executor, student, attempt)

    monkeypatch.setattr(batch_run.BatchRun, "_submit", submit_then_ctrl_c)
    with pytest.raises(BatchInterrupted) as caught:
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=1, progress=False)
    assert harness_children() == [], "a grading still runs after the batch said it stopped"
    assert convgrade_leftovers(private_tmp) == []
    assert {s.id: s.status for s in caught.value.summary.students} == {
        "a": "interrupted", "b": "not_started", "c": "not_started"}
    assert not (tmp_path / "out" / "results" / "a.json").exists()


def test_an_interrupted_student_is_not_counted_as_done(tmp_path, quick_config, monkeypatch, capsys):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two slots")
    folder = small_class(tmp_path / "subs", a="fast", b="fast")
    interrupted = threading.Event()

    def grading(path, sandbox, config=None, **kwargs):
        if Path(path).name == "b.py":
            time.sleep(0.2)
            interrupted.set()
            ctrl_c(sandbox)
        interrupted.wait(30)
        time.sleep(0.5)  # the batch is stopping: this grading was killed, the grader says not gradable
        return grader_failure_result(path, "harness killed", config, 1)

    monkeypatch.setattr(executor, "grade_submission", grading)
    with pytest.raises(BatchInterrupted) as caught:
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=2, progress=True)
    assert {s.id: s.status for s in caught.value.summary.students} == {"a": "interrupted", "b": "interrupted"}
    err = capsys.readouterr().err
    assert "[1/2]" not in err and "[2/2]" not in err, err


def test_the_leaderboard_command_rebuilds_the_same_boards_from_stored_results(copy, tmp_path, quick_config):
    folder, out = copy
    config = quick_config.model_copy(update={"course": quick_config.course.model_copy(update={"title": "CS231n"})})
    stored = {p.name: p.read_bytes() for p in (out / "results").iterdir()}
    rebuilt = tmp_path / "rebuilt"
    result = CliRunner().invoke(cli, ["leaderboard", str(out), "--out", str(rebuilt), "--anonymize", "--salt",
                                      "pepper", "--hide-unranked-scores", "--config",
                                      str(quick_config_file(tmp_path / "c.json", config))])
    assert result.exit_code == 0, result.output
    board = read_json(rebuilt / "leaderboard.json")
    assert board["title"] == "CS231n" and len(board["function_boards"]) == 2
    assert [e["score"] for e in board["entries"] if e["rank"] is None] == [None, None]
    assert all(e["reason"] for e in board["entries"] if e["rank"] is None)
    assert (rebuilt / "staff" / "pseudonyms.csv").is_file()
    assert {p.name: p.read_bytes() for p in (out / "results").iterdir()} == stored  # nothing rewritten


# ------------------------------------------------------------------------- a bundle


def test_grade_all_grades_a_bundle_class_into_every_output(tmp_path, quick_config):
    """A class graded as the cs231n-a2 bundle (whole layers.py files), through the CLI: the
    Canvas gradebook and Gradescope results carry each student's whole-file score, a stub layer
    costs its layer's checks only, and `convgrade similarity` on the output compares every
    layer's functions (the results say the assignment; no --assignment needed)."""
    a2 = Path(__file__).resolve().parents[1] / "submissions" / "a2"
    folder = small_class(tmp_path / "subs", ada=(a2 / "layers_correct.py").read_text(),
                         alan=(a2 / "layers_maxpool_stub.py").read_text(),
                         grace=(a2 / "layers_vectorised.py").read_text())
    roster = tmp_path / "grades.csv"
    roster.write_text(CANVAS_EXPORT)
    # Written by hand: a dump of quick_config would carry the conv pack's rubric.
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"assignment": "cs231n-a2", "timing": quick_config.timing.model_dump(mode="json"),
                                  "course": {"gradebook_column": "Conv layers (12345)"}}))
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["grade-all", str(folder), "--out", str(out), "--assignment", "cs231n-a2",
                                    "--config", str(config), "--jobs", "1",
                                    "--format", "gradescope", "--roster", str(roster)])
    assert done.exit_code == 0, done.output
    results = {sid: read_json(out / "results" / f"{sid}.json") for sid in ("ada", "alan", "grace")}
    assert {r["assignment"] for r in results.values()} == {"cs231n-a2"}
    alan = results["alan"]
    assert all(c["status"] == "passed" and c["score"] == c["max_score"] for c in alan["checks"]
               if c["layer"] == "cs231n-conv")
    assert all(c["status"] == "failed" and c["score"] == 0 and "is still the starter code's stub" in c["message"]
               for c in alan["checks"] if c["layer"] == "cs231n-maxpool" and c["call"] != "all")
    assert 0 < alan["score"] < results["ada"]["score"]
    lines = (out / "canvas_gradebook.csv").read_text().splitlines()
    rows_out = [line.rsplit(",", 1) for line in lines[2:]]  # the score is the last column, full precision
    assert [row[0] for row in rows_out] == ['"Lovelace, Ada",1001,A0001,ada,CS231N-01',
                                            '"Turing, Alan",1002,A0002,alan,CS231N-02',
                                            '"Hopper, Grace",1003,A0003,grace,CS231N-01']
    assert [float(row[1]) for row in rows_out] == pytest.approx(
        [results["ada"]["score"], alan["score"], results["grace"]["score"]], abs=1e-6)
    gradescope = read_json(out / "gradescope" / "alan" / "results.json")
    assert gradescope["score"] == pytest.approx(alan["score"])
    assert {t["name"] for t in gradescope["tests"]} >= {"maxpool: inputs are left unchanged",
                                                         "conv: inputs are left unchanged"}
    assert {e["name"] for e in gradescope["leaderboard"]} >= {"conv/forward speedup", "maxpool/backward speedup"}

    similarity = CliRunner().invoke(cli, ["similarity", str(out), "--threshold", "0.3"])
    assert similarity.exit_code == 0, similarity.output
    report = (out / "staff" / "similarity.html").read_text()
    assert "max_pool_forward_naive" in report and "conv_forward_naive" in report
