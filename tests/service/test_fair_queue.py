"""The job table's fair order, on a real SQLite database: a student's load (their jobs
queued ahead, running, or finished in the last hour), then arrival; only checked jobs are
claimed; a rejected job's bytes are given up only when no other job names them."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import update

from grader.service import db

pytestmark = pytest.mark.service


@pytest.fixture
def engine(tmp_path):
    opened = db.open_database(db.database_url(None, tmp_path))
    db.sync_students(opened, [(who, who, "student", hashlib.sha256(who.encode()).hexdigest())
                              for who in ("amy", "ben", "cat")])
    yield opened
    opened.dispose()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def upload(engine, student: str, content: str, *, accepted: bool = True) -> tuple[int, int]:
    """One stored upload (its job id, its position at the 202), checked and accepted unless told."""
    (job,), _ = db.add_submissions(engine, [(student, digest(content), f"{student}.py", "layers.py")])
    if accepted:
        db.add_submissions(engine, [], verdicts=[(job[0], None, None)])
    return job


def claim_all(engine, limit: int = 100) -> list[tuple[str, str]]:
    """(student, content) of the jobs claimed, in the order of their turns."""
    return [(row.student_id, CONTENTS[row.sha256]) for row in db.claim(engine, limit, "t")]


CONTENTS = {digest(f"{who}{n}"): f"{who}{n}" for who in ("amy", "ben", "cat") for n in range(1, 8)}


def test_a_first_submission_goes_before_anyones_resubmissions(engine):
    for n in range(1, 6):  # amy resubmits four times before ben's first arrives
        upload(engine, "amy", f"amy{n}")
    ben, ben_position = upload(engine, "ben", "ben1")
    assert ben_position == 2  # behind amy's first only: reported in the fair order, not by arrival
    with engine.connect() as conn:
        assert db._positions(conn, range(1, 7)) == {1: 1, 6: 2, 2: 3, 3: 4, 4: 5, 5: 6}
    assert claim_all(engine) == [("amy", "amy1"), ("ben", "ben1"), ("amy", "amy2"), ("amy", "amy3"),
                                 ("amy", "amy4"), ("amy", "amy5")]


def test_running_and_recent_gradings_count_and_are_forgotten_after_an_hour(engine):
    for n in range(1, 4):
        upload(engine, "amy", f"amy{n}")
    assert [who for who, _ in claim_all(engine)] == ["amy"] * 3  # all three running now
    upload(engine, "amy", "amy4")
    upload(engine, "ben", "ben1")  # arrived after amy4, but amy has three in flight
    assert claim_all(engine, 1) == [("ben", "ben1")]
    with engine.begin() as conn:  # amy's three finished, two hours ago: her load is forgotten
        conn.execute(update(db.submissions).where(db.submissions.c.student_id == "amy",
                                                  db.submissions.c.status == "running")
                     .values(status="graded", finished_at=time.time() - 2 * db.RECENT_S))
    upload(engine, "cat", "cat1")
    upload(engine, "cat", "cat2")
    assert claim_all(engine) == [("amy", "amy4"), ("cat", "cat1"), ("cat", "cat2")]  # by arrival again


def test_a_job_whose_student_has_recent_gradings_waits_but_is_not_starved(engine):
    """Even while others keep arriving with no load, amy's job goes once her recent gradings age out."""
    upload(engine, "amy", "amy1")
    db.claim(engine, 1, "t")
    with engine.begin() as conn:
        conn.execute(update(db.submissions).values(status="graded", finished_at=time.time() - 60))
    waiting, _ = upload(engine, "amy", "amy2")
    upload(engine, "ben", "ben1")
    assert claim_all(engine, 1) == [("ben", "ben1")]
    with engine.begin() as conn:  # an hour on: her first grading is no longer recent
        conn.execute(update(db.submissions).where(db.submissions.c.id == 1)
                     .values(finished_at=time.time() - db.RECENT_S - 1))
    upload(engine, "cat", "cat1")  # a newcomer with no load arrives after her
    assert claim_all(engine, 1) == [("amy", "amy2")]


def test_only_checked_jobs_are_claimed_and_a_rejected_ones_bytes_go_when_nobody_else_names_them(engine):
    (first, _), (second, _), (third, _) = db.add_submissions(engine, [
        ("amy", digest("same"), "amy.py", "a.py"), ("amy", digest("same"), "amy.py", "b.py"),
        ("ben", digest("other"), "ben.py", "layers.py")])[0]
    assert db.claim(engine, 10, "t") == []  # nothing checked yet
    _, orphans = db.add_submissions(engine, [], verdicts=[(first, "no file defines conv_forward_naive", None)])
    assert orphans == set()  # its twin, not yet checked, still needs the bytes
    _, orphans = db.add_submissions(engine, [], verdicts=[(second, "no file defines conv_forward_naive", None),
                                                          (third, None, digest("loaded"))])
    assert orphans == {digest("same")}
    assert [(row.id, row.content_sha256) for row in db.claim(engine, 10, "t")] == [(third, digest("loaded"))]
    row, position, _ = db.submission(engine, first)
    assert (row.status, row.message, position) == ("rejected", "no file defines conv_forward_naive", None)
    assert db.recent_count(engine, "amy", 0)[0] == 0  # rejected uploads do not count against the limit
    assert db.health(engine)["rejected"] == 2
