"""POST /api/submissions: an upload, admitted by the gate on its headers, checked by the
loader (nothing stored before), then stored and queued by the intake."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from pydantic import BaseModel

from grader.intake.load import submission_id_for
from grader.service import db
from grader.service.context import Service, bearer, rate_limited, service
from grader.service.upload_check import CheckerUnavailable

KINDS = (".py", ".zip", ".ipynb")

router = APIRouter()


class SubmissionAccepted(BaseModel):
    id: int
    status: str = "queued"
    position: int


@router.post("/api/submissions", status_code=202, response_model=SubmissionAccepted,
             dependencies=[Depends(bearer)])  # the bearer scheme, in the OpenAPI document
async def submit(request: Request, file: UploadFile = File(...)):
    parts = service(request)
    settings, checks = parts.settings, parts.checks
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
        refusal = await unless_hung_up(request, checked(parts, person, filename, data))
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
        job_id, position = await asyncio.wrap_future(parts.intake.add(person.id, data, filename))
    except db.RateLimited as refused:
        raise rate_limited(refused) from None
    parts.dispatcher.wake.set()
    return SubmissionAccepted(id=job_id, position=position)


async def checked(parts: Service, person, filename: str, data: bytes) -> str | None:
    """The loader's refusal, or None; a student's checks one at a time. Nothing is stored before it."""
    if person.role == "staff":
        return await parts.checker.refusal(filename, data)
    async with parts.checks.one_at_a_time(person.id):
        return await parts.checker.refusal(filename, data)


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
