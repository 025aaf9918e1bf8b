"""The FastAPI application: exactly the API paths of the service, and its two pages.

    POST /api/submissions            upload (multipart `file`): 202 once stored and queued
    GET  /api/submissions/{id}       status, queue position, result when graded
    GET  /api/submissions[?student=] a student's own; staff anyone's
    GET  /api/leaderboard            the leaderboard JSON (public)
    POST /api/regrade                staff: one student, one submission, or all
    GET  /api/export/scores.csv      staff
    GET  /api/export/gradescope.zip  staff
    GET  /api/health                 staff: queue depth, workers, oldest queued job
    GET  /  and  GET|POST /me        the live leaderboard; a student's feedback
    GET  /events                     server-sent events: the live page's signal

Every call but the leaderboard needs ``Authorization: Bearer <token>`` (the /me page also
takes the token from its login form, kept in an HttpOnly, SameSite=Strict cookie).
An upload's token and rate limit are checked on its headers, before its body is read, and
the body is capped as it streams in (grader.service.upload_gate). Before its 202 only cheap
checks of its bytes run (grader.service.upload_kind: the file kind, a zip's directory); a
refused one answers 4xx and leaves no trace. An upload is acknowledged once
grader.service.intake has stored it durably and committed its job row. The loader's full
check runs after the 202 (grader.service.verifier, in grader.service.upload_check's
processes, bounded in time, one at a time per student: grader.service.check_limits): until
it accepts the upload, no grading takes it; if it refuses, the submission becomes
`rejected` with the loader's message and its bytes are deleted.

create_app builds the service's parts once (grader.service.context.Service, on app.state)
and mounts one router per concern (grader.service.routes: uploads, results, pages, events).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from fastapi import FastAPI, Request

from grader.errors import UsageError
from grader.service import db
from grader.service.board import Boards
from grader.service.check_limits import StudentCheckLimits
from grader.service.context import Service
from grader.service.board_changes import BoardChanges
from grader.service.dispatcher import Dispatcher
from grader.service.intake import Intake
from grader.service.leftovers import sweep_and_mark
from grader.service.routes import events, pages, results, uploads
from grader.service.settings import ServiceSettings
from grader.service.store import ContentStore
from grader.service.stream_caps import StreamCaps
from grader.service.tokens import STAFF_ID, ensure_tokens, token_hash
from grader.service.upload_check import UploadChecker
from grader.service.upload_gate import UploadGate
from grader.service.verifier import Verifier

__all__ = ["ServiceSettings", "create_app", "open_executor_for"]

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def open_executor_for(settings: ServiceSettings):
    from grader.batch.executor import choose_cores
    from grader.batch.executor import Executor

    if settings.scheduler:
        return lambda: Executor.remote(settings.scheduler)
    cores, _ = choose_cores(settings.jobs)
    return lambda: Executor.local(cores, settings.sandbox)


def create_app(settings: ServiceSettings, *, log=print) -> FastAPI:
    service = open_service(settings, log)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await asyncio.to_thread(service.checker.warm)
        resumed = await service.verifier.resume(frozenset({STAFF_ID}))
        if resumed:
            log(f"checking {resumed} upload(s) an earlier server stored but did not check")
        await asyncio.to_thread(service.dispatcher.start)
        try:
            yield
        finally:
            await service.verifier.close()
            await asyncio.to_thread(service.dispatcher.stop)
            await asyncio.to_thread(service.checker.close)
            service.engine.dispose()

    # No /docs or /redoc: they load scripts from a CDN; the document itself is at /openapi.json.
    app = FastAPI(title="convgrade", version="1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service

    # The gate first (innermost of the two): the guard's headers go on its refusals too.
    app.add_middleware(UploadGate, path="/api/submissions", admit=service.admit_uploader,
                       max_bytes=settings.max_upload_bytes + 65536)  # the form's own bytes besides the file

    @app.middleware("http")
    async def guard(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    for router in (uploads.router, results.router, pages.router, events.router):
        app.include_router(router)
    return app


def open_service(settings: ServiceSettings, log) -> Service:
    """The service's parts, after sweeping what an earlier server left: the database with the
    roster's tokens, the store, the intake, the upload checker, the dispatcher, the boards."""
    from grader.batch.executor import hideable

    started = time.time()
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # students' code and the tokens: staff only
    ids = [student.id for student in settings.roster.students]
    if STAFF_ID in ids:
        raise UsageError(f"the roster has a student with the id {STAFF_ID!r}, which is the staff account's")
    sweep_and_mark(data_dir, log)  # before any helper process starts
    tokens = ensure_tokens(data_dir, ids)
    engine = db.open_database(db.database_url(settings.database, data_dir))
    names = {student.id: student.name for student in settings.roster.students}
    db.sync_students(engine, [(i, names.get(i, "staff" if i == STAFF_ID else ""),
                               "staff" if i == STAFF_ID else "student", token_hash(t)) for i, t in tokens.items()])
    store = ContentStore(data_dir / "store")
    swept = store.sweep_temporary_files(older_than=started)
    if swept:
        log(f"removed {swept} temporary file(s) an earlier server left in the store")
    intake = Intake(engine, store, rate_limit=settings.rate_limit, exempt=frozenset({STAFF_ID}), log=log)
    checker = UploadChecker(data_dir / "checking", tuple(settings.config.pack().STUDENT_FUNCTIONS.values()),
                            workers=settings.checkers, timeout_s=settings.check_timeout_s)
    checks = StudentCheckLimits(*settings.refusal_limit)
    dispatcher = Dispatcher(engine, store, settings.config, open_executor_for(settings),
                            hide_paths=hideable((data_dir,)), log=log)
    return Service(
        settings=settings, engine=engine, store=store, intake=intake, checker=checker, checks=checks,
        verifier=Verifier(engine, store, intake, checker, checks,
                          on_verdict=lambda accepted: accepted and dispatcher.wake.set(), log=log),
        dispatcher=dispatcher,
        boards=Boards(engine, settings.roster, settings.counting, settings.config.course,
                      settings.config.assignment),
        streams=StreamCaps(settings.max_event_streams, settings.max_event_streams_per_address, log),
        board_changes=BoardChanges(lambda: dispatcher.version),
    )
