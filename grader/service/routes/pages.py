"""The pages people open: the live leaderboard (/) and a student's feedback (/me, with its
login form). Not in the OpenAPI document: they are pages, not the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from grader.service import db, pages
from grader.service.context import bearer, service
from grader.service.tokens import token_hash

COOKIE = "convgrade_token"

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def live_page(request: Request):
    return HTMLResponse(pages.live_leaderboard(service(request).boards.outputs()[0]["leaderboard.html"]),
                        headers={"Content-Security-Policy": pages.LIVE_PAGE_POLICY + "; frame-ancestors 'none'"})


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
    engine = service(request).engine
    token = credentials.credentials if credentials else request.cookies.get(COOKIE)
    person = db.who(engine, token_hash(token)) if token else None
    if person is None:
        return HTMLResponse(pages.login_page(), headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY})
    return _me_page(engine, person)


@router.post("/me")
def me_login(request: Request, token: str = Form(...)):
    if db.who(service(request).engine, token_hash(token.strip())) is None:
        return HTMLResponse(pages.login_page("That token is not valid."), status_code=401,
                            headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY})
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=180 * 86400)
    return response


def _me_page(engine, person) -> HTMLResponse:
    # Each queued job's position is read with it: a second read would scan the fair queue again.
    fetched = [db.submission(engine, row.id) for row in reversed(db.list_submissions(engine, person.id))]
    jobs = [(row, result) for row, _, result in fetched]
    positions = {row.id: position for row, position, _ in fetched if row.status == "queued"}
    return HTMLResponse(pages.feedback_page(person.id, person.name, jobs, positions),
                        headers={"Content-Security-Policy": pages.FEEDBACK_PAGE_POLICY + "; frame-ancestors 'none'"})
