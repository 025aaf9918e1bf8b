"""GET /events: server-sent events, the live page's signal that the board changed. Each
open stream holds a descriptor, so streams are capped in all and per address."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from grader.service.context import service

router = APIRouter(include_in_schema=False)


@router.get("/events")
async def events(request: Request):
    parts = service(request)
    streams, dispatcher = parts.streams, parts.dispatcher
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
