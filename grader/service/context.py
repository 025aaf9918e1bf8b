"""What the routers share: the service's parts, built once by grader.service.app and kept
on ``app.state.service``, and who is calling (FastAPI dependencies).

    service(request)                 -> Service          the parts, for a route
    caller(...)  / staff(...)        -> the person        401 without a valid token, 403 if not staff
    Service.admit_uploader(headers)  -> the person        the upload gate's check, before the body

The routers (grader.service.routes) hold no state of their own: a test or a second app
gets its own parts by building its own Service.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from grader.service import db
from grader.service.board import Boards
from grader.service.check_limits import StudentCheckLimits
from grader.service.board_changes import BoardChanges
from grader.service.dispatcher import Dispatcher
from grader.service.intake import Intake
from grader.service.settings import ServiceSettings
from grader.service.store import ContentStore
from grader.service.stream_caps import StreamCaps
from grader.service.tokens import token_hash
from grader.service.upload_check import UploadChecker
from grader.service.verifier import Verifier

# The bearer scheme of the OpenAPI document; a missing token is answered by caller(), not by it.
bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Service:
    settings: ServiceSettings
    engine: object
    store: ContentStore
    intake: Intake
    checker: UploadChecker
    checks: StudentCheckLimits
    verifier: Verifier
    dispatcher: Dispatcher
    boards: Boards
    streams: StreamCaps
    board_changes: BoardChanges

    def person_with(self, credentials: HTTPAuthorizationCredentials | None):
        row = db.who(self.engine, token_hash(credentials.credentials)) if credentials else None
        if row is None:
            raise HTTPException(401, "a valid token is needed: Authorization: Bearer <token>",
                                headers={"WWW-Authenticate": "Bearer"})
        return row

    def uploader(self, credentials: HTTPAuthorizationCredentials | None):
        # This early count only spares a student already over the limit the upload's
        # reading and storing; the limit itself is kept by the intake, which counts
        # and inserts in one transaction (uploads sent together all pass this one).
        person = self.person_with(credentials)
        if person.role != "staff":
            limit, window = self.settings.rate_limit
            count, oldest = db.recent_count(self.engine, person.id, time.time() - window)
            if count >= limit:
                wait = max(1, int((oldest or time.time()) + window - time.time()) + 1)
                raise rate_limited(db.RateLimited(limit, window, wait))
        return person

    async def admit_uploader(self, headers: dict[str, str]):
        # Who, and within the rate limit, from the headers alone (the gate asks before the
        # body is read), in one worker thread: a burst's uploads wait for a free thread once.
        scheme, _, token = headers.get("authorization", "").partition(" ")
        credentials = (HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
                       if scheme.lower() == "bearer" and token.strip() else None)
        person = await asyncio.to_thread(self.uploader, credentials)
        wait = self.checks.retry_after(person.id) if person.role != "staff" else None
        if wait is not None:
            raise HTTPException(429, self.checks.message(wait), headers={"Retry-After": str(wait)})
        return person


def service(request: Request) -> Service:
    return request.app.state.service


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
    return service(request).person_with(credentials)


def staff(person=Depends(caller)):
    if person.role != "staff":
        raise HTTPException(403, "staff only")
    return person


def rate_limited(refused: db.RateLimited) -> HTTPException:
    return HTTPException(429, str(refused), headers={"Retry-After": str(refused.retry_after)})
