"""What was graded: a submission's state and result, a student's list, the leaderboard
JSON, and the staff's calls on them (regrade, exports, health)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import Response
from pydantic import BaseModel, Field

from grader.service import db
from grader.service.context import caller, service, staff

MAX_ID = 2**31 - 1  # the id column is a 32-bit integer in PostgreSQL

router = APIRouter()


class SubmissionState(BaseModel):
    id: int
    student: str
    filename: str = Field(description="The file name the student uploaded.")
    status: str = Field(description=(
        "queued | running | graded | failed | rejected. queued: stored, waiting for the loader's check (which "
        "runs right after the upload is acknowledged) and then for a grading slot. rejected: the loader refused "
        "the file after it was acknowledged (it defines none of the functions, it does not parse, its check ran "
        "out of time...): `message` says why, its bytes are deleted, and it does not count against the rate "
        "limit; fix the file and submit again. failed: the grader failed (never a zero)."))
    position: int | None = Field(None, description=(
        "While queued: its place in the fair order, 1 next (a student's load, i.e. their gradings queued ahead, "
        "running or finished in the last hour, then arrival)."))
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


@router.get("/api/submissions/{submission_id}", response_model=SubmissionState)
def get_submission(request: Request, submission_id: int = FastAPIPath(ge=1, le=MAX_ID), person=Depends(caller)):
    row, position, result = db.submission(service(request).engine, submission_id)
    if row is None or (person.role != "staff" and row.student_id != person.id):
        raise HTTPException(404, "no such submission")  # another's: not even its existence is told
    return _state_response(row, position, result)


@router.get("/api/submissions", response_model=list[SubmissionState])
def list_submissions(request: Request, student: str | None = Query(None), person=Depends(caller)):
    if person.role != "staff":
        if student is not None and student != person.id:
            raise HTTPException(403, "a student sees only their own submissions")
        student = person.id
    return [_state(row, None, None) for row in db.list_submissions(service(request).engine, student)]


@router.get("/api/leaderboard")
def leaderboard(request: Request):
    return Response(service(request).boards.outputs()[0]["leaderboard.json"], media_type="application/json")


@router.post("/api/regrade", response_model=RegradeAnswer)
def regrade(request: Request, regrade_request: RegradeRequest, _staff=Depends(staff)):
    chosen = [regrade_request.student is not None, regrade_request.submission is not None, regrade_request.all]
    if sum(chosen) != 1:
        raise HTTPException(422, "give exactly one of student, submission or all")
    parts = service(request)
    queued = db.regrade(parts.engine, student_id=regrade_request.student, job_id=regrade_request.submission)
    parts.dispatcher.wake.set()
    return RegradeAnswer(queued=queued)


@router.get("/api/export/scores.csv")
def scores(request: Request, _staff=Depends(staff)):
    return Response(service(request).boards.outputs()[0]["scores.csv"], media_type="text/csv")


@router.get("/api/export/gradescope.zip")
def gradescope(request: Request, _staff=Depends(staff)):
    return Response(service(request).boards.gradescope_zip(), media_type="application/zip")


@router.get("/api/health")
def health(request: Request, _staff=Depends(staff)):
    parts = service(request)
    return {**db.health(parts.engine), "workers": parts.dispatcher.slots(),
            "scheduler": parts.settings.scheduler or "in-process"}


def _state(row, position, result_json) -> dict:
    return {"id": row.id, "student": row.student_id, "filename": row.upload_name or row.filename, "status": row.status,
            "position": position, "created_at": row.created_at, "finished_at": row.finished_at,
            "message": row.message, "result": None}


def _state_response(row, position, result_json) -> Response:
    """The state, with the stored result JSON spliced in as it is (not parsed and re-dumped)."""
    document = json.dumps(_state(row, position, None))
    if result_json:
        document = document[:-len('"result": null}')] + '"result": ' + result_json + "}"
    return Response(document, media_type="application/json")
