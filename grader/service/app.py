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
the body is capped as it streams in (grader.service.upload_gate). It is then checked by the
loader (which runs nothing, in grader.service.upload_check's processes, bounded in time,
one at a time per student: grader.service.check_limits) before anything is stored; a
refused one answers 4xx with the loader's message and leaves no trace. An accepted one is acknowledged once grader.service.intake has stored
it durably and committed its job row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from grader.grading.config import GradingConfig
from grader.errors import UsageError
from grader.intake.roster import Roster
from grader.intake.load import submission_id_for
from grader.intake.limits import LoadLimits
from grader.service import db, pages
from grader.service.board import Boards, Counting
from grader.service.check_limits import StudentCheckLimits
from grader.service.dispatcher import Dispatcher
from grader.service.intake import Intake
from grader.service.leftovers import sweep_and_mark
from grader.service.store import ContentStore
from grader.service.stream_caps import StreamCaps
from grader.service.tokens import STAFF_ID, ensure_tokens, token_hash
from grader.service.upload_check import CheckerUnavailable, UploadChecker
from grader.service.upload_gate import UploadGate

KINDS = (".py", ".zip", ".ipynb")
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer in PostgreSQL
COOKIE = "convgrade_token"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


@dataclass
class ServiceSettings:
    data_dir: Path
    roster: Roster
    config: GradingConfig = field(default_factory=GradingConfig)
    database: str | None = None
    scheduler: str | None = None
    sandbox: str = "process"
    jobs: int | None = None
    rate_limit: tuple[int, float] = (5, 600.0)
    """At most this many submissions per student in this many seconds (staff: no limit)."""
    max_upload_bytes: int = LoadLimits().max_total_bytes
    check_timeout_s: float = 5.0
    """An upload whose check takes longer is refused (its checking process is killed)."""
    checkers: int | None = None
    """Upload-checking processes (default 4, whatever the cores: see upload_check.DEFAULT_WORKERS)."""
    refusal_limit: tuple[int, float] = (10, 600.0)
    """At most this many refused uploads per student in this many seconds (see check_limits)."""
    counting: Counting = "best"
    max_event_streams: int = 512
    """Live-board event streams open at once (each holds a descriptor); past it, 503."""
    max_event_streams_per_address: int = 8
    """... and from one client address; past it, 429."""


class SubmissionAccepted(BaseModel):
    id: int
    status: str = "queued"
    position: int


class SubmissionState(BaseModel):
    id: int
    student: str
    filename: str
    status: str = Field(description="queued | running | graded | failed (the grader failed: never a zero)")
    position: int | None = None
    created_at: float
    finished_at: float | None = None
    message: str | None = None
    result: dict | None = Field(None, description="The GradeResult JSON (published schema) once graded.")


class RegradeRequest(BaseModel):
    student: str | None = None
    submission: int | None = Field(None, ge=1, le=MAX_ID)
    all: bool = False


class RegradeAnswer(BaseModel):
    queued: int


def open_executor_for(settings: ServiceSettings):
    from grader.batch.executor import choose_cores
    from grader.batch.executor import Executor

    if settings.scheduler:
        return lambda: Executor.remote(settings.scheduler)
    cores, _ = choose_cores(settings.jobs)
    return lambda: Executor.local(cores, settings.sandbox)


def create_app(settings: ServiceSettings, *, log=print) -> FastAPI:
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
    intake = Intake(engine, store, rate_limit=settings.rate_limit, exempt=frozenset({STAFF_ID}))
    checker = UploadChecker(data_dir / "checking", tuple(settings.config.pack().STUDENT_FUNCTIONS.values()),
                            workers=settings.checkers, timeout_s=settings.check_timeout_s)
    checks = StudentCheckLimits(*settings.refusal_limit)
    dispatcher = Dispatcher(engine, store, settings.config, open_executor_for(settings),
                            hide_paths=hideable((data_dir,)), log=log)
    boards = Boards(engine, settings.roster, settings.counting, settings.config.course.title,
                    settings.config.assignment)
    limit, window = settings.rate_limit
    streams = StreamCaps(settings.max_event_streams, settings.max_event_streams_per_address, log)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await asyncio.to_thread(checker.warm)
        await asyncio.to_thread(dispatcher.start)
        try:
            yield
        finally:
            await asyncio.to_thread(dispatcher.stop)
            await asyncio.to_thread(checker.close)
            engine.dispose()

    # No /docs or /redoc: they load scripts from a CDN; the document itself is at /openapi.json.
    app = FastAPI(title="convgrade", version="1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.engine, app.state.store, app.state.dispatcher = engine, store, dispatcher
    bearer = HTTPBearer(auto_error=False)

    async def admit_uploader(headers: dict[str, str]):
        # Who, and within the rate limit, from the headers alone (the gate asks before the
        # body is read), in one worker thread: a burst's uploads wait for a free thread once.
        scheme, _, token = headers.get("authorization", "").partition(" ")
        credentials = (HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
                       if scheme.lower() == "bearer" and token.strip() else None)
        person = await asyncio.to_thread(uploader, credentials)
        wait = checks.retry_after(person.id) if person.role != "staff" else None
        if wait is not None:
            raise HTTPException(429, checks.message(wait), headers={"Retry-After": str(wait)})
        return person

    # The gate first (innermost of the two): the guard's headers go on its refusals too.
    app.add_middleware(UploadGate, path="/api/submissions", admit=admit_uploader,
                       max_bytes=settings.max_upload_bytes + 65536)  # the form's own bytes besides the file

    @app.middleware("http")
    async def guard(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def person_with(credentials: HTTPAuthorizationCredentials | None):
        row = db.who(engine, token_hash(credentials.credentials)) if credentials else None
        if row is None:
            raise HTTPException(401, "a valid token is needed: Authorization: Bearer <token>",
                                headers={"WWW-Authenticate": "Bearer"})
        return row

    def caller(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        return person_with(credentials)

    def uploader(credentials: HTTPAuthorizationCredentials | None):
        # This early count only spares a student already over
        # the limit the upload's check; the limit itself is kept by the intake, which counts
        # and inserts in one transaction (uploads sent together all pass this one).
        person = person_with(credentials)
        if person.role != "staff":
            count, oldest = db.recent_count(engine, person.id, time.time() - window)
            if count >= limit:
                wait = max(1, int((oldest or time.time()) + window - time.time()) + 1)
                raise rate_limited(db.RateLimited(limit, window, wait))
        return person

    def staff(person=Depends(caller)):
        if person.role != "staff":
            raise HTTPException(403, "staff only")
        return person

    # ------------------------------------------------------------------ the API

    @app.post("/api/submissions", status_code=202, response_model=SubmissionAccepted,
              dependencies=[Depends(bearer)])  # the bearer scheme, in the OpenAPI document
    async def submit(request: Request, file: UploadFile = File(...)):
        person = request.state.uploader  # admitted by the gate before the body was read
        # Async, and each step's work off the event loop's thread: the check in the checker's
        # processes, the storing and the commit in the intake's thread, with the uploads
        # that arrive together.
        data = await file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"the upload is over {settings.max_upload_bytes // 2**20} MiB")
        suffix = Path(file.filename or "").suffix.lower()
        if suffix not in KINDS:
            raise HTTPException(415, f"expected a .py file, a .zip or an .ipynb, got {file.filename!r}")
        filename = f"{submission_id_for(person.id)}{suffix}"  # the result's id is the student's
        try:
            refusal = await unless_hung_up(request, checked(person, filename, data))
        except CheckerUnavailable as exc:
            raise HTTPException(503, f"{exc}; try again", headers={"Retry-After": "5"}) from None
        except ClientGone:  # its check was cancelled (its process killed); nobody reads this answer
            if person.role != "staff":
                checks.refused(person.id)
            raise HTTPException(400, "the client hung up before its upload was checked") from None
        if refusal is not None:
            if person.role != "staff":
                checks.refused(person.id)
            raise HTTPException(422, refusal)
        try:
            job_id, position = await asyncio.wrap_future(intake.add(person.id, data, filename))
        except db.RateLimited as refused:
            raise rate_limited(refused) from None
        dispatcher.wake.set()
        return SubmissionAccepted(id=job_id, position=position)

    async def checked(person, filename: str, data: bytes) -> str | None:
        """The loader's refusal, or None; a student's checks one at a time. Nothing is stored before it."""
        if person.role == "staff":
            return await checker.refusal(filename, data)
        async with checks.one_at_a_time(person.id):
            return await checker.refusal(filename, data)

    @app.get("/api/submissions/{submission_id}", response_model=SubmissionState)
    def get_submission(submission_id: int = FastAPIPath(ge=1, le=MAX_ID), person=Depends(caller)):
        row, position, result = db.submission(engine, submission_id)
        if row is None or (person.role != "staff" and row.student_id != person.id):
            raise HTTPException(404, "no such submission")  # another's: not even its existence is told
        return _state_response(row, position, result)

    @app.get("/api/submissions", response_model=list[SubmissionState])
    def list_submissions(student: str | None = Query(None), person=Depends(caller)):
        if person.role != "staff":
            if student is not None and student != person.id:
                raise HTTPException(403, "a student sees only their own submissions")
            student = person.id
        return [_state(row, None, None) for row in db.list_submissions(engine, student)]

    @app.get("/api/leaderboard")
    def leaderboard():
        return Response(boards.outputs()[0]["leaderboard.json"], media_type="application/json")

    @app.post("/api/regrade", response_model=RegradeAnswer)
    def regrade(request: RegradeRequest, _staff=Depends(staff)):
        chosen = [request.student is not None, request.submission is not None, request.all]
        if sum(chosen) != 1:
            raise HTTPException(422, "give exactly one of student, submission or all")
        queued = db.regrade(engine, student_id=request.student, job_id=request.submission)
        dispatcher.wake.set()
        return RegradeAnswer(queued=queued)

    @app.get("/api/export/scores.csv")
    def scores(_staff=Depends(staff)):
        return Response(boards.outputs()[0]["scores.csv"], media_type="text/csv")

    @app.get("/api/export/gradescope.zip")
    def gradescope(_staff=Depends(staff)):
        return Response(boards.gradescope_zip(), media_type="application/zip")

    @app.get("/api/health")
    def health(_staff=Depends(staff)):
        return {**db.health(engine), "workers": dispatcher.slots(),
                "scheduler": settings.scheduler or "in-process"}

    # ---------------------------------------------------------------- the pages

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def live_page():
        return HTMLResponse(pages.live_leaderboard(boards.outputs()[0]["leaderboard.html"]),
                            headers={"Content-Security-Policy": pages.LIVE_PAGE_POLICY + "; frame-ancestors 'none'"})

    @app.get("/events", include_in_schema=False)
    async def events(request: Request):
        address = request.client.host if request.client else "unknown"
        refusal = streams.admit(address)
        if refusal is not None:
            return JSONResponse({"detail": refusal[1]}, status_code=refusal[0], headers={"Retry-After": "30"})

        async def stream():
            try:
                seen, quiet = dispatcher.version, 0.0
                yield "retry: 2000\n\n"
                while not await request.is_disconnected():
                    await asyncio.sleep(0.5)
                    quiet += 0.5
                    if dispatcher.version != seen:
                        seen, quiet = dispatcher.version, 0.0
                        yield f"data: {seen}\n\n"
                    elif quiet >= 15:  # a comment keeps proxies from closing an idle stream
                        quiet = 0.0
                        yield ": idle\n\n"
            finally:  # closed by the client, or cancelled by the server: the slot is free again
                streams.release(address)
        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    def _me_page(person):
        jobs = [(row, result) for row, _, result in
                (db.submission(engine, row.id) for row in reversed(db.list_submissions(engine, person.id)))]
        positions = {row.id: db.submission(engine, row.id)[1] for row, _ in jobs if row.status == "queued"}
        return HTMLResponse(pages.feedback_page(person.id, person.name, jobs, positions),
                            headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY + "; frame-ancestors 'none'"})

    @app.get("/me", response_class=HTMLResponse, include_in_schema=False)
    def me(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        token = credentials.credentials if credentials else request.cookies.get(COOKIE)
        person = db.who(engine, token_hash(token)) if token else None
        if person is None:
            return HTMLResponse(pages.login_page(), headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY})
        return _me_page(person)

    @app.post("/me", include_in_schema=False)
    def me_login(request: Request, token: str = Form(...)):
        if db.who(engine, token_hash(token.strip())) is None:
            return HTMLResponse(pages.login_page("That token is not valid."), status_code=401,
                                headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY})
        response = RedirectResponse("/me", status_code=303)
        response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", max_age=180 * 86400)
        return response

    return app


class ClientGone(Exception):
    """The client closed its connection while its upload waited for its check."""


async def unless_hung_up(request: Request, work):
    """Await ``work``, cancelling it when the client closes its connection first (ClientGone).
    The body has been read by then, so the next message the server has for this request is
    the disconnect."""
    async def hung_up():
        while (await request.receive())["type"] != "http.disconnect":
            pass

    task, gone = asyncio.ensure_future(work), asyncio.ensure_future(hung_up())
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server stops
        task.cancel()
        raise
    finally:
        gone.cancel()
    if not task.done():
        task.cancel()  # a check in flight: its process is killed
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ClientGone()
    return task.result()


def rate_limited(refused: db.RateLimited) -> HTTPException:
    return HTTPException(429, str(refused), headers={"Retry-After": str(refused.retry_after)})


def _state(row, position, result_json) -> dict:
    return {"id": row.id, "student": row.student_id, "filename": row.filename, "status": row.status,
            "position": position, "created_at": row.created_at, "finished_at": row.finished_at,
            "message": row.message, "result": None}


def _state_response(row, position, result_json) -> Response:
    """The state, with the stored result JSON spliced in as it is (not parsed and re-dumped)."""
    document = json.dumps(_state(row, position, None))
    if result_json:
        document = document[:-len('"result": null}')] + '"result": ' + result_json + "}"
    return Response(document, media_type="application/json")
