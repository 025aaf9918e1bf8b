"""POST /api/submissions: an upload, admitted by the gate on its headers, checked cheaply by
its bytes (grader.service.upload_kind), stored and queued by the intake, acknowledged, and
then checked by the loader in the background (grader.service.verifier)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from grader.intake.load import submission_id_for
from grader.service import db
from grader.service.context import bearer, rate_limited, service
from grader.service.upload_kind import KINDS, quick_refusal

router = APIRouter()

ZIP_IN_THREAD_BYTES = 1 << 16
"""A zip's directory bigger than a few entries is read off the event loop's thread."""


class SubmissionAccepted(BaseModel):
    id: int
    status: str = Field("queued", description="queued: stored; the loader's full check runs next, and a "
                                              "submission it refuses becomes `rejected` (see its state)")
    position: int


@router.post("/api/submissions", status_code=202, response_model=SubmissionAccepted,
             dependencies=[Depends(bearer)])  # the bearer scheme, in the OpenAPI document
async def submit(request: Request, file: UploadFile = File(...)):
    parts = service(request)
    settings = parts.settings
    person = request.state.uploader  # admitted by the gate before the body was read
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"the upload is over {settings.max_upload_bytes // 2**20} MiB")
    upload_name = Path(file.filename or "").name
    suffix = Path(upload_name).suffix.lower()
    if suffix not in KINDS:
        raise HTTPException(415, f"expected a .py file, a .zip or an .ipynb, got {file.filename!r}")
    if suffix == ".zip" and len(data) > ZIP_IN_THREAD_BYTES:
        refusal = await asyncio.to_thread(quick_refusal, suffix, data)
    else:
        refusal = quick_refusal(suffix, data)  # microseconds: a decode, a few bytes compared
    staff = person.role == "staff"
    if refusal is not None:
        if not staff:
            parts.checks.refused(person.id)
        raise HTTPException(422, refusal)
    filename = f"{submission_id_for(person.id)}{suffix}"  # the result's id is the student's
    try:
        job_id, position = await asyncio.wrap_future(parts.intake.add(person.id, data, filename, upload_name[:260]))
    except db.RateLimited as refused:
        raise rate_limited(refused) from None
    parts.verifier.check_later(job_id, person.id, staff, filename, data)
    return SubmissionAccepted(id=job_id, position=position)
