"""The service's state: one schema (SQLAlchemy Core) for SQLite and PostgreSQL.

    students     id, name, role (student | staff), token_hash
    submissions  the job table: status queued -> running -> graded | failed
    results      one row per graded submission (its primary key forbids a second result)

SQLite runs in WAL mode with synchronous=FULL (a committed row survives a power cut) and
takes its write lock at BEGIN (BEGIN IMMEDIATE), so concurrent writers wait for each
other instead of failing on a lock upgrade.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        create_engine, event, func, insert, select, update)
from sqlalchemy.engine import Engine

metadata = MetaData()

students = Table(
    "students", metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(400), nullable=False, default=""),
    Column("role", String(16), nullable=False, default="student"),
    Column("token_hash", String(64), nullable=False, unique=True),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student_id", String(200), ForeignKey("students.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(260), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim", String(32)),
    Column("message", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("submissions_status", "status", "id"),
    Index("submissions_student", "student_id", "created_at"),
)

results = Table(
    "results", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), primary_key=True),
    Column("student_id", String(200), nullable=False),
    Column("score", Float, nullable=False),
    Column("gradable", Boolean, nullable=False),
    Column("result_json", Text, nullable=False),
    Column("graded_at", Float, nullable=False),
)

STATUSES = ("queued", "running", "graded", "failed")


def database_url(database: str | None, data_dir: Path) -> str:
    if not database:
        return f"sqlite:///{Path(data_dir).resolve() / 'convgrade.db'}"
    if database.startswith("postgresql://") or database.startswith("postgres://"):
        return "postgresql+psycopg://" + database.split("://", 1)[1]  # psycopg 3, not the default psycopg2
    return database


class Database:
    """A writer and a reader engine, used as an engine by the queries below: ``begin()``
    (a write transaction) takes SQLite's write lock at once; ``connect()`` (reads) takes a
    plain snapshot, which WAL lets run while a writer commits. PostgreSQL: one engine."""

    def __init__(self, writer: Engine, reader: Engine):
        self.writer, self.reader = writer, reader
        self.url = writer.url

    def begin(self):
        return self.writer.begin()

    def connect(self):
        return self.reader.connect()

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def open_database(url: str) -> Database:
    if url.startswith("sqlite"):
        writer, reader = _sqlite_engine(url, "BEGIN IMMEDIATE"), _sqlite_engine(url, "BEGIN")
    else:
        writer = reader = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    metadata.create_all(writer)
    return Database(writer, reader)


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql(begin)

    return engine


# ------------------------------------------------------------------------ queries


def requeue_running(engine: Database) -> int:
    """At start: jobs a crash left `running` have no grading any more; queue them again."""
    with engine.begin() as conn:
        return conn.execute(update(submissions).where(submissions.c.status == "running")
                            .values(status="queued", claim=None)).rowcount


def sync_students(engine: Database, people: list[tuple[str, str, str, str]]) -> None:
    """(id, name, role, token_hash) for everyone: added, or their name and token updated."""
    with engine.begin() as conn:
        known = {row.id: row for row in conn.execute(select(students))}
        for student_id, name, role, digest in people:
            row = known.get(student_id)
            if row is None:
                conn.execute(insert(students).values(id=student_id, name=name, role=role, token_hash=digest))
            elif (row.name, row.role, row.token_hash) != (name, role, digest):
                conn.execute(update(students).where(students.c.id == student_id)
                             .values(name=name, role=role, token_hash=digest))


def who(engine: Database, digest: str):
    with engine.connect() as conn:
        return conn.execute(select(students).where(students.c.token_hash == digest)).first()


def recent_count(engine: Database, student_id: str, since: float) -> tuple[int, float | None]:
    """Submissions of ``student_id`` since ``since``, and the oldest of them."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(), func.min(submissions.c.created_at))
                           .where(submissions.c.student_id == student_id, submissions.c.created_at >= since)).one()
    return int(row[0]), row[1]


def add_submissions(engine: Database, jobs: list[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """Job rows (student id, sha256, filename) in one transaction: one commit (one fsync)
    for many uploads. Their ids and queue positions, in order."""
    now = time.time()
    with engine.begin() as conn:
        ids = [conn.execute(insert(submissions).values(
            student_id=student_id, sha256=sha256, filename=filename, status="queued", attempts=0,
            created_at=now)).inserted_primary_key[0] for student_id, sha256, filename in jobs]
        ahead = int(conn.execute(select(func.count()).select_from(submissions)
                                 .where(submissions.c.status == "queued", submissions.c.id < min(ids))).scalar())
    return [(job_id, ahead + index + 1) for index, job_id in enumerate(ids)]


class Intake:
    """Group commit of uploads: requests that arrive together wait for one transaction.
    ``add`` returns once the row is committed (or raises what the commit raised)."""

    MAX_GROUP = 256

    def __init__(self, engine: Database):
        self.engine = engine
        self.waiting: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, name="convgrade-intake", daemon=True).start()

    def add(self, student_id: str, sha256: str, filename: str) -> tuple[int, int]:
        done, answer = threading.Event(), []
        self.waiting.put(((student_id, sha256, filename), done, answer))
        done.wait()
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return answer[0]

    def _run(self) -> None:
        while True:
            group = [self.waiting.get()]
            while len(group) < self.MAX_GROUP:
                try:
                    group.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                answers = add_submissions(self.engine, [job for job, _, _ in group])
            except Exception as exc:  # every waiter hears of it; none is told it was stored
                answers = [exc] * len(group)
            for (_, done, answer), result in zip(group, answers):
                answer.append(result)
                done.set()


def _position(conn, job_id: int) -> int:
    return int(conn.execute(select(func.count()).select_from(submissions)
                            .where(submissions.c.status == "queued", submissions.c.id <= job_id)).scalar())


def submission(engine: Database, job_id: int):
    """The job row, its queue position (when queued) and its result JSON (when graded)."""
    with engine.connect() as conn:
        row = conn.execute(select(submissions).where(submissions.c.id == job_id)).first()
        if row is None:
            return None, None, None
        position = _position(conn, job_id) if row.status == "queued" else None
        result = conn.execute(select(results.c.result_json).where(results.c.submission_id == job_id)).scalar()
    return row, position, result


def list_submissions(engine: Database, student_id: str | None):
    query = select(submissions).order_by(submissions.c.id)
    if student_id is not None:
        query = query.where(submissions.c.student_id == student_id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def results_of(engine: Database, student_id: str | None = None):
    """(submission row, result JSON) of every graded submission, oldest first."""
    query = (select(submissions, results.c.result_json).join(results, results.c.submission_id == submissions.c.id)
             .order_by(submissions.c.id))
    if student_id is not None:
        query = query.where(submissions.c.student_id == student_id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def board_version(engine: Database) -> tuple[int, float]:
    """Changes whenever a result is written or removed: the leaderboard's cache key."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(), func.max(results.c.graded_at))).one()
    return int(row[0]), float(row[1] or 0)


def claim(engine: Database, limit: int, token: str):
    """Mark up to ``limit`` queued jobs running (oldest first) under ``token``; their rows."""
    if limit <= 0:
        return []
    with engine.begin() as conn:
        ids = [row.id for row in conn.execute(select(submissions.c.id).where(submissions.c.status == "queued")
                                              .order_by(submissions.c.id).limit(limit))]
        if not ids:
            return []
        conn.execute(update(submissions).where(submissions.c.id.in_(ids), submissions.c.status == "queued")
                     .values(status="running", claim=token, attempts=submissions.c.attempts + 1,
                             started_at=time.time()))
        return list(conn.execute(select(submissions).where(submissions.c.id.in_(ids),
                                                           submissions.c.claim == token)))


def record_result(engine: Database, job_id: int, claim_token: str, student_id: str, score: float, gradable: bool,
                  result_json: str) -> bool:
    """The result and the job's `graded` status in one transaction; False when the job is no
    longer this claim's (re-queued or regraded meanwhile): nothing is written then."""
    with engine.begin() as conn:
        now = time.time()
        changed = conn.execute(update(submissions)
                               .where(submissions.c.id == job_id, submissions.c.status == "running",
                                      submissions.c.claim == claim_token)
                               .values(status="graded", finished_at=now, message=None)).rowcount
        if changed != 1:
            return False
        conn.execute(insert(results).values(submission_id=job_id, student_id=student_id, score=score,
                                            gradable=gradable, result_json=result_json, graded_at=now))
    return True


def release(engine: Database, job_id: int, claim_token: str, *, failed_message: str | None = None) -> None:
    """Back to the queue (a retry, a lost scheduler), or `failed` with the grader's reason."""
    values = (dict(status="failed", message=failed_message, finished_at=time.time()) if failed_message
              else dict(status="queued", claim=None))
    with engine.begin() as conn:
        conn.execute(update(submissions).where(submissions.c.id == job_id, submissions.c.status == "running",
                                               submissions.c.claim == claim_token).values(**values))


def regrade(engine: Database, *, student_id: str | None = None, job_id: int | None = None) -> int:
    """Queue graded or failed submissions again (all when neither is given); their old results go."""
    condition = submissions.c.status.in_(("graded", "failed"))
    if student_id is not None:
        condition = condition & (submissions.c.student_id == student_id)
    if job_id is not None:
        condition = condition & (submissions.c.id == job_id)
    with engine.begin() as conn:
        ids = [row.id for row in conn.execute(select(submissions.c.id).where(condition))]
        if ids:
            conn.execute(results.delete().where(results.c.submission_id.in_(ids)))
            conn.execute(update(submissions).where(submissions.c.id.in_(ids))
                         .values(status="queued", claim=None, attempts=0, message=None, finished_at=None))
    return len(ids)


def health(engine: Database) -> dict:
    with engine.connect() as conn:
        counts = dict(conn.execute(select(submissions.c.status, func.count()).group_by(submissions.c.status)).all())
        oldest = conn.execute(select(func.min(submissions.c.created_at))
                              .where(submissions.c.status == "queued")).scalar()
    return {"queue_depth": int(counts.get("queued", 0)), "running": int(counts.get("running", 0)),
            "graded": int(counts.get("graded", 0)), "failed": int(counts.get("failed", 0)),
            "oldest_queued_age_s": round(time.time() - oldest, 3) if oldest else None}
