"""The gate of the upload path: who may upload is decided before a byte of the body is read,
and the body is capped as it streams in.

FastAPI parses (and spools to disk) a request's form before it runs the route's
dependencies, so a token checked there is checked after the whole body has arrived: an
upload with no token could stream hundreds of MiB into the server's temporary folder and
only then hear 401. This ASGI middleware runs first. For ``POST`` to the upload path it asks
``admit`` (the token, the rate limit) with the headers alone, answering its refusal at
once; it refuses a declared Content-Length over the cap; and it counts the bytes of a
chunked body as they arrive, answering 413 as soon as they pass the cap. Every other
request's body is capped the same way at ``other_max_bytes``. What ``admit`` returns is put
in the request's state for the route (``request.state.uploader``).
"""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse


class BodyTooLarge(HTTPException):
    def __init__(self, cap: int):
        super().__init__(413, f"the upload is over {cap // 2**20} MiB" if cap >= 2**20 else
                         f"the request body is over {cap} bytes")


class UploadGate:
    def __init__(self, app, *, path: str, admit: Callable[[dict[str, str]], Awaitable[object]],
                 max_bytes: int, other_max_bytes: int = 65536):
        self.app = app
        self.path = path
        self.admit = admit
        self.max_bytes = max_bytes
        self.other_max_bytes = other_max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        upload = scope["method"] == "POST" and scope["path"] == self.path
        cap = self.max_bytes if upload else self.other_max_bytes
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > cap):
            return await self._refuse(BodyTooLarge(cap) if length.isdigit() else HTTPException(400, "bad Content-Length"),
                                      scope, receive, send)
        if upload:
            try:
                scope.setdefault("state", {})["uploader"] = await self.admit(headers)
            except HTTPException as refused:
                return await self._refuse(refused, scope, receive, send)
        received = 0

        async def capped_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # Raised inside the route's body parsing: FastAPI passes an HTTPException
                    # on, and the app answers it; the rest of the body is never read.
                    raise BodyTooLarge(cap)
            return message

        await self.app(scope, capped_receive, send)

    @staticmethod
    async def _refuse(refused: HTTPException, scope, receive, send) -> None:
        # The body is not read: the server closes the connection after this answer.
        response = JSONResponse({"detail": refused.detail}, status_code=refused.status_code,
                                headers={**(refused.headers or {}), "Connection": "close"})
        await response(scope, receive, send)
