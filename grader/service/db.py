"""The service's state: one schema (SQLAlchemy Core) for SQLite and PostgreSQL.

    students     id, name, role (student | staff), token_hash
    submissions  the job table: status queued -> running -> graded | failed, or
                 queued -> rejected (the loader refused it after the 202); ``checked``
                 says the loader accepted it (only checked jobs are claimed)
    results      one row per graded submission (its primary key forbids a second result)

SQLite runs in WAL mode with synchronous=FULL (a committed row survives a power cut) and
takes its write lock at BEGIN (BEGIN IMMEDIATE), so concurrent writers wait for each
other instead of failing on a lock upgrade.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        and_, create_engine, event, func, insert, or_, select, tuple_,
                        update)
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
    Column("upload_name", String(260)),  # the student's own file name (filename is the staged one)
    Column("status", String(16), nullable=False),
    Column("checked", Boolean, nullable=False, default=True),
    Column("content_sha256", String(64)),  # the loaded submission's hash, from its check: its seed
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim", String(32)),
    Column("message", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("submissions_status", "status", "id"),
    Index("submissions_student", "student_id", "created_at"),
    Index("submissions_finished", "status", "finished_at"),  # the fair queue's recent gradings
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

STATUSES = ("queued", "running", "graded", "failed", "rejected")
RECENT_S = 3600.0
"""Fair queueing's memory: a student's gradings finished in the last hour still count as theirs."""


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
    _add_new_columns(writer)
    return Database(writer, reader)


def _add_new_columns(engine: Engine) -> None:
    """A DATA folder from before the two-step intake: its job table gains ``upload_name`` and
    ``checked`` (its rows were checked before their 202, so they are checked) and ``content_sha256``."""
    from sqlalchemy import inspect

    present = {column["name"] for column in inspect(engine).get_columns("submissions")}
    for index in submissions.indexes:
        index.create(engine, checkfirst=True)
    with engine.begin() as conn:
        if "upload_name" not in present:
            conn.exec_driver_sql("ALTER TABLE submissions ADD COLUMN upload_name VARCHAR(260)")
        if "checked" not in present:
            conn.exec_driver_sql("ALTER TABLE submissions ADD COLUMN checked BOOLEAN NOT NULL DEFAULT TRUE")
        if "content_sha256" not in present:
            conn.exec_driver_sql("ALTER TABLE submissions ADD COLUMN content_sha256 VARCHAR(64)")


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


COUNTED = submissions.c.status != "rejected"
"""What counts against the rate limit: every submission but those the loader refused."""


def recent_count(engine: Database, student_id: str, since: float) -> tuple[int, float | None]:
    """Submissions of ``student_id`` since ``since`` (rejected ones aside), and the oldest of them."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(), func.min(submissions.c.created_at))
                           .where(submissions.c.student_id == student_id, submissions.c.created_at >= since,
                                  COUNTED)).one()
    return int(row[0]), row[1]


class RateLimited(Exception):
    """The student has used up their submissions in the window; ``retry_after`` seconds to wait."""

    def __init__(self, limit: int, window: float, retry_after: int):
        super().__init__(f"at most {limit} submissions per {window:g} s; try again in {retry_after} s")
        self.retry_after = retry_after


def add_submissions(engine: Database, jobs: list[tuple[str, str, str, str | None]], *,
                    rate_limit: tuple[int, float] | None = None,
                    exempt: frozenset[str] = frozenset(),
                    verdicts: list[tuple[int, str | None, str | None]] = ()
                    ) -> tuple[list[tuple[int, int] | RateLimited], set[str]]:
    """Job rows (student id, sha256, filename, upload name), not yet checked, in one
    transaction: one commit (one fsync) for many uploads. Their ids and queue positions, in
    order; with ``rate_limit`` (N per SECONDS, for everyone but ``exempt``), a RateLimited
    instead of a row for each upload past it.

    The same transaction records the loader's ``verdicts`` on earlier uploads, (job id,
    None when accepted or the loader's message, the loaded content's sha256 or None):
    accepted ones become claimable, refused ones `rejected`. Also returned: the digests no row needs any more (only rejected rows
    name them), for the caller to delete from the store.

    The count and the inserts are one transaction under a lock per student: SQLite's write
    lock is taken at BEGIN (BEGIN IMMEDIATE), and PostgreSQL's student rows are locked
    (SELECT ... FOR UPDATE) before they are counted, so two uploads that arrive together,
    in two servers or two groups, cannot both read a count under the limit."""
    now = time.time()
    answers: list[tuple[int, int] | RateLimited | None] = [None] * len(jobs)
    with engine.begin() as conn:
        orphans = _record_verdicts(conn, verdicts, now)
        used: dict[str, list[float]] = {}
        if rate_limit is not None:
            limit, window = rate_limit
            limited = sorted({job[0] for job in jobs} - exempt)
            if limited:  # in id order: two groups lock the same students in the same order
                conn.execute(select(students.c.id).where(students.c.id.in_(limited))
                             .order_by(students.c.id).with_for_update())
            for student_id in limited:
                used[student_id] = sorted(conn.execute(
                    select(submissions.c.created_at).where(submissions.c.student_id == student_id,
                                                           submissions.c.created_at >= now - window,
                                                           COUNTED)).scalars())
        ids = []
        for index, (student_id, sha256, filename, upload_name) in enumerate(jobs):
            times = used.get(student_id)
            if times is not None and len(times) >= limit:
                retry_after = max(1, int(times[len(times) - limit] + window - now) + 1)
                answers[index] = RateLimited(limit, window, retry_after)
                continue
            if times is not None:
                times.append(now)
            job_id = conn.execute(insert(submissions).values(
                student_id=student_id, sha256=sha256, filename=filename, upload_name=upload_name,
                status="queued", checked=False, attempts=0, created_at=now)).inserted_primary_key[0]
            ids.append((index, job_id))
        places = _positions(conn, [job_id for _, job_id in ids], now) if ids else {}
        for index, job_id in ids:
            answers[index] = (job_id, places[job_id])
    return answers, orphans


def _record_verdicts(conn, verdicts, now: float) -> set[str]:
    """Accepted jobs become claimable; refused ones `rejected` with the loader's message. The
    digests of the rejected that no other (not rejected) row names."""
    for job_id, refusal, content in verdicts:
        if refusal is None:
            conn.execute(update(submissions).where(submissions.c.id == job_id)
                         .values(checked=True, content_sha256=content))
    digests = set()
    for job_id, refusal, _ in verdicts:
        if refusal is not None:
            changed = conn.execute(update(submissions).where(submissions.c.id == job_id,
                                                             submissions.c.status == "queued")
                                   .values(status="rejected", message=refusal, finished_at=now)).rowcount
            if changed:
                digests.add(conn.execute(select(submissions.c.sha256).where(submissions.c.id == job_id)).scalar())
    if not digests:
        return set()
    named = set(conn.execute(select(submissions.c.sha256).where(submissions.c.sha256.in_(digests), COUNTED))
                .scalars())
    return digests - named


def unchecked(engine: Database):
    """Queued jobs the loader has not checked yet (a server stopped before their check), oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(select(submissions).where(submissions.c.status == "queued",
                                                           submissions.c.checked.is_(False))
                                 .order_by(submissions.c.id)))


# ------------------------------------------------------------------ fair queueing
#
# A queued job's turn is decided by its student's load, then by arrival: the load is how
# many of that student's submissions are in flight (running), queued ahead of it, or
# finished (graded or failed) in the last RECENT_S. So with a long queue, everyone's first
# submission goes before anyone's second, and a student's fifth resubmission waits behind
# every first one. Nobody starves: the load of a student's oldest queued job counts only
# their running gradings (bounded in time) and their recent ones (gone after RECENT_S), so
# it falls to 0 within RECENT_S plus a grading; from then on only the finitely many jobs
# that arrived before it at load 0 can go ahead of it. Its next job follows the same way.


def _queue_in_turns(conn, now: float) -> list:
    """Every queued job (id, student_id, sha256, filename, checked), in the fair order. One
    pass: the students' running and recent gradings counted once, the queue read once."""
    busy = dict(conn.execute(
        select(submissions.c.student_id, func.count())
        .where(or_(submissions.c.status == "running",
                   and_(submissions.c.status.in_(("graded", "failed")), submissions.c.finished_at >= now - RECENT_S)))
        .group_by(submissions.c.student_id)).all())
    queued = conn.execute(select(submissions.c.id, submissions.c.student_id, submissions.c.sha256,
                                 submissions.c.filename, submissions.c.checked)
                          .where(submissions.c.status == "queued").order_by(submissions.c.id)).all()
    ahead: dict[str, int] = {}
    turns = []
    for row in queued:  # in arrival order: each job's load counts its student's jobs queued before it
        load = busy.get(row.student_id, 0) + ahead.get(row.student_id, 0)
        ahead[row.student_id] = ahead.get(row.student_id, 0) + 1
        turns.append((load, row.id, row))
    turns.sort(key=lambda turn: turn[:2])
    return [row for _, _, row in turns]


def _positions(conn, job_ids, now: float | None = None) -> dict[int, int]:
    """Each queued job's place in the fair order, 1 first (checked or not: an upload still
    being checked is almost always accepted, and takes its turn then)."""
    wanted = set(job_ids)
    return {row.id: place for place, row in enumerate(_queue_in_turns(conn, time.time() if now is None else now), 1)
            if row.id in wanted}


def _position(conn, job_id: int, now: float | None = None) -> int:
    return _positions(conn, [job_id], now).get(job_id, 0)


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


def _twins(job) -> list:
    """Conditions for the twins of ``job`` (a row, or another alias of the table): the same
    student's uploads of the same bytes under the same name. Twins share one grading."""
    return [submissions.c.student_id == job.student_id, submissions.c.sha256 == job.sha256,
            submissions.c.filename == job.filename]


def claim(engine: Database, limit: int, token: str):
    """Mark up to ``limit`` queued, checked jobs running under ``token``, in the fair order
    (see above: the student's load, then arrival); their rows, in that order. Of twins, only
    the oldest is claimed, and none while another runs: the rest wait in the queue for its
    result, which ``reuse_result`` then gives them."""
    if limit <= 0:
        return []
    with engine.begin() as conn:
        running = set(conn.execute(select(submissions.c.student_id, submissions.c.sha256, submissions.c.filename)
                                   .where(submissions.c.status == "running")).all())
        ids, twins = [], set()
        for row in _queue_in_turns(conn, time.time()):
            twin = (row.student_id, row.sha256, row.filename)
            if not row.checked or twin in twins or twin in running:
                continue
            twins.add(twin)
            ids.append(row.id)
            if len(ids) == limit:
                break
        if not ids:
            return []
        conn.execute(update(submissions).where(submissions.c.id.in_(ids), submissions.c.status == "queued")
                     .values(status="running", claim=token, attempts=submissions.c.attempts + 1,
                             started_at=time.time()))
        claimed = {row.id: row for row in conn.execute(select(submissions).where(submissions.c.id.in_(ids),
                                                                                 submissions.c.claim == token))}
        return [claimed[job_id] for job_id in ids if job_id in claimed]  # in turn order


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


def reuse_result(engine: Database, job, claim_token: str, grader_version: str, config_hash: str) -> bool:
    """Record for the claimed ``job`` the result of its newest graded twin, when this grader
    version and configuration graded it: the same file submitted again gets the same grading
    (and cannot fish for a luckier timing). False, and nothing written, when there is none."""
    query = (select(results).join(submissions, submissions.c.id == results.c.submission_id)
             .where(*_twins(job), submissions.c.status == "graded").order_by(submissions.c.id.desc()))
    with engine.connect() as conn:
        for earlier in conn.execute(query):
            grading = json.loads(earlier.result_json)
            if (grading.get("grader_version"), grading.get("config_hash")) == (grader_version, config_hash):
                break
        else:
            return False
    return record_result(engine, job.id, claim_token, job.student_id, earlier.score, earlier.gradable,
                         earlier.result_json)


def release(engine: Database, job_id: int, claim_token: str, *, failed_message: str | None = None) -> None:
    """Back to the queue (a retry, a lost scheduler), or `failed` with the grader's reason."""
    values = (dict(status="failed", message=failed_message, finished_at=time.time()) if failed_message
              else dict(status="queued", claim=None))
    with engine.begin() as conn:
        conn.execute(update(submissions).where(submissions.c.id == job_id, submissions.c.status == "running",
                                               submissions.c.claim == claim_token).values(**values))


def regrade(engine: Database, *, student_id: str | None = None, job_id: int | None = None) -> int:
    """Queue graded or failed submissions again (all when neither is given); their old results go.
    The twins of each go too (they share its grading), so the next grading is a fresh one."""
    done = submissions.c.status.in_(("graded", "failed"))
    chosen = select(submissions.c.student_id, submissions.c.sha256, submissions.c.filename).where(done)
    if student_id is not None:
        chosen = chosen.where(submissions.c.student_id == student_id)
    if job_id is not None:
        chosen = chosen.where(submissions.c.id == job_id)
    twins = tuple_(submissions.c.student_id, submissions.c.sha256, submissions.c.filename).in_(chosen)
    with engine.begin() as conn:
        ids = [row.id for row in conn.execute(select(submissions.c.id).where(done, twins))]
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
            "rejected": int(counts.get("rejected", 0)),
            "oldest_queued_age_s": round(time.time() - oldest, 3) if oldest else None}
