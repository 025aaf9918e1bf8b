"""GET /events: server-sent events, the live page's signal that the board changed. Each
open stream holds a descriptor, so streams are capped in all and per address."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from grader.service.context import service

router = APIRouter(include_in_schema=False)

IDLE_S = 15  # a comment this often keeps proxies from closing an idle stream


async def hung_up(request: Request) -> None:
    """Returns when the client closes the stream (its request body was read long ago, so
    the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.get("/events")
async def events(request: Request):
    parts = service(request)
    streams, dispatcher, changes = parts.streams, parts.dispatcher, parts.board_changes
    address = request.client.host if request.client else "unknown"
    refusal = streams.admit(address)
    if refusal is not None:
        return JSONResponse({"detail": refusal[1]}, status_code=refusal[0], headers={"Retry-After": "30"})

    async def stream():
        # The client's hang-up is awaited, not polled: a stream costs nothing between changes.
        gone = asyncio.ensure_future(hung_up(request))
        try:
            seen = dispatcher.version
            yield "retry: 2000\n\n"
            while True:
                change = asyncio.ensure_future(changes.next_version(seen, IDLE_S))
                await asyncio.wait({change, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone.done():
                    change.cancel()
                    return
                if change.result() != seen:
                    seen = change.result()
                    yield f"data: {seen}\n\n"
                else:  # a comment keeps proxies from closing an idle stream
                    yield ": idle\n\n"
        finally:  # closed by the client, or cancelled by the server: the slot is free again
            gone.cancel()
            streams.release(address)
    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
