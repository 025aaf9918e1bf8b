"""Rosters in (plain and Canvas exports), gradebook files out (scores.csv, Canvas import)."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import datetime, timezone

import pytest

from grader.errors import UsageError
from grader.intake.roster import Roster, load_roster, roster_warnings, submission_times
from grader.publish.gradebook import canvas_gradebook_csv, scores_csv
from tests.unit.publish.test_leaderboard import make_result

# What Canvas's Grades > Export writes (a points row, a test student, an assignment column).
CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Conv layers (12345)\n"
    "    Points Possible,,,,,100.00\n"
    '"Lovelace, Ada",1001,A0001,ada,CS231N-01,\n'
    '"Turing, Alan",1002,A0002,alan,CS231N-02,55\n'
    '"Hopper, Grace",1003,A0003,grace,CS231N-01,\n'
    '"Student, Test",9999,,,CS231N-01,\n'
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ------------------------------------------------------------------- scores.csv


def test_scores_csv_has_roster_names_times_and_empty_scores_for_grader_failures(tmp_path):
    roster = load_roster(write(tmp_path, "roster.csv", "id,name\ns1,Ada Lovelace\ns2,=cmd()\n"))
    results = [
        make_result("s2", score=0.1 + 0.2, max_score=10),
        make_result("s1", score=7.5),
        make_result("s3", correct=False, score=0),
        make_result("s4", gradable=False, score=0),
        make_result("=HYPERLINK(1)", score=1),
    ]
    text = scores_csv(results, roster, {"s1": "2025-02-28T23:59:00+00:00"})
    assert text == (
        "student_id,name,score,max_score,submitted_at\n"
        "'=HYPERLINK(1),,1,10,\n"
        "s1,Ada Lovelace,7.5,10,2025-02-28T23:59:00+00:00\n"
        "s2,'=cmd(),0.3,10,\n"
        "s3,,0,10,\n"
        "s4,,,10,\n"
    )


def test_scores_csv_quotes_ids_that_need_it():
    assert scores_csv([make_result('smith, "jo"', score=4)]) == (
        'student_id,name,score,max_score,submitted_at\n"smith, ""jo""",,4,10,\n')


# ----------------------------------------------------------------------- rosters


def test_plain_roster_with_submitted_at_column(tmp_path):
    roster = load_roster(write(tmp_path, "r.csv", "\ufeffID,Name,submitted_at\nAda-1,Ada,2025-03-01T10:00:00Z\n"
                                                  "bob,Bob,2025-03-01 11:30\ncarl,,\n"))
    assert roster.kind == "plain"
    assert roster.names(["ada-1", "bob", "carl", "zed"]) == {"ada-1": "Ada", "bob": "Bob", "carl": "carl"}
    assert roster.find("ada-1").submitted_at == "2025-03-01T10:00:00+00:00"
    assert roster.find("bob").submitted_at == "2025-03-01T11:30:00+00:00"  # no zone: UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("who,what\n", "needs the columns id,name (or be a Canvas gradebook export", id="columns"),
        pytest.param("id,name\na,A\nA,B\n", "line 3: id 'A' is listed twice", id="duplicate"),
        pytest.param("id,name,submitted_at\na,A,yesterday\n", "submitted_at 'yesterday' is not an ISO 8601",
                     id="bad-time"),
    ],
)
def test_bad_rosters_are_refused_with_the_line(tmp_path, text, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        load_roster(write(tmp_path, "r.csv", text))


def test_canvas_export_is_accepted_as_a_roster(tmp_path):
    roster = load_roster(write(tmp_path, "grades.csv", CANVAS_EXPORT))
    assert roster.kind == "canvas"
    assert [s.id for s in roster.students] == ["ada", "alan", "grace"]  # no points row, no test student
    # By SIS Login ID, SIS User ID, Canvas ID, or a Canvas "Download Submissions" file name.
    assert roster.find("ada").name == "Lovelace, Ada"
    assert roster.find("a0002").name == "Turing, Alan"
    assert roster.find("1003").name == "Hopper, Grace"
    assert roster.find("lovelaceada_late_1001_777_layers").name == "Lovelace, Ada"
    assert roster.find("nobody") is None


def test_roster_warnings_name_both_directions(tmp_path):
    roster = load_roster(write(tmp_path, "grades.csv", CANVAS_EXPORT))
    warnings = roster_warnings(roster, ["ada", "a0002", "stranger", "ghost"])
    assert len(warnings) == 2
    assert "2 submission(s) not on the roster" in warnings[0] and warnings[0].endswith("stranger, ghost")
    assert warnings[1] == "1 roster id(s) with no submission: grace"
    assert roster_warnings(Roster(), ["a"]) == []


def test_submission_times_prefer_the_roster_then_the_newest_file(tmp_path):
    roster = load_roster(write(tmp_path, "r.csv", "id,name,submitted_at\na,A,2025-03-01T10:00:00Z\nb,B,\n"))
    a, b, folder = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c"
    folder.mkdir()
    for path in (a, b, folder / "old.py", folder / "new.py"):
        path.write_text("x = 1\n")
    stamp = datetime(2025, 2, 27, 8, 0, tzinfo=timezone.utc).timestamp()
    os.utime(b, (stamp, stamp))
    os.utime(folder / "old.py", (stamp, stamp))
    os.utime(folder / "new.py", (stamp + 3600, stamp + 3600))
    times = submission_times({"a": a, "b": b, "c": folder}, roster)
    assert times == {"a": "2025-03-01T10:00:00+00:00", "b": "2025-02-27T08:00:00+00:00",
                     "c": "2025-02-27T09:00:00+00:00"}


# -------------------------------------------------------------------- Canvas CSV


def test_canvas_gradebook_csv_is_canvas_import_shaped(tmp_path):
    roster = load_roster(write(tmp_path, "grades.csv", CANVAS_EXPORT))
    results = [
        make_result("ada", score=92.5, max_score=100),
        make_result("a0002", gradable=False, score=0, max_score=100),
        make_result("stranger", score=40, max_score=100),
    ]
    text = canvas_gradebook_csv(results, roster, "Conv layers (12345)")
    assert rows(text) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Conv layers (12345)"],
        ["Points Possible", "", "", "", "", "100"],
        ["Lovelace, Ada", "1001", "A0001", "ada", "CS231N-01", "92.5"],
        ["Turing, Alan", "1002", "A0002", "alan", "CS231N-02", ""],  # not gradable: leave Canvas's grade
        ["Hopper, Grace", "1003", "A0003", "grace", "CS231N-01", ""],  # no submission
    ]
    with pytest.raises(UsageError, match="Canvas roster"):
        canvas_gradebook_csv(results, Roster(), "x")
