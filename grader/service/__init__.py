"""`convgrade serve`: students submit over HTTP, a durable queue grades, a live leaderboard.

    db.py          the schema (SQLAlchemy Core; SQLite WAL or PostgreSQL) and its queries
    store.py       submissions' bytes, content-addressed and fsynced under DATA/store
    tokens.py      one random token per student and for staff; only hashes in the database
    dispatcher.py  the job table -> grader.batch.executor (Dask) -> results, one transaction each
    board.py       the leaderboard and exports from each student's counted result
    pages.py       the server-rendered pages: / (live board) and /me (a student's feedback)
    app.py         the FastAPI application: the API paths, authentication, rate limits

The job table, not Dask's memory, is the source of truth: a job is `queued` until the
dispatcher claims it (`running`), and `graded` or `failed` once its result is committed.
A server killed with SIGKILL re-queues its `running` jobs at the next start.
"""
