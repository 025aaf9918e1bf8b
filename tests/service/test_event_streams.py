"""The live board's event streams are capped per address and in all, and a refused burst is
logged once, not once per request."""

from __future__ import annotations

import contextlib
import time

import httpx
import pytest

pytestmark = pytest.mark.service


READERS: list = []  # the open streams' line iterators: one dropped closes its connection


def open_stream(stack: contextlib.ExitStack, server, source: str) -> httpx.Response:
    """A stream from the loopback address ``source`` (all of 127/8 is loopback on Linux),
    held open until ``stack`` closes."""
    client = stack.enter_context(httpx.Client(base_url=server.url, timeout=10,
                                              transport=httpx.HTTPTransport(local_address=source)))
    response = stack.enter_context(client.stream("GET", "/events"))
    if response.status_code == 200:
        lines = response.iter_lines()
        assert next(lines) == "retry: 2000"  # the server holds it open
        READERS.append(lines)
        stack.callback(READERS.remove, lines)
    else:
        response.read()
    return response


def test_event_streams_are_capped_per_address_and_in_all_and_a_burst_is_logged_once(server_factory):
    server = server_factory(students=1, args=("--jobs", "1", "--event-streams", "5/3")).start()
    with contextlib.ExitStack() as stack:
        assert [open_stream(stack, server, "127.0.0.1").status_code for _ in range(3)] == [200] * 3
        per_address = [open_stream(stack, server, "127.0.0.1") for _ in range(10)]
        assert {answer.status_code for answer in per_address} == {429}
        assert per_address[0].json()["detail"] == "at most 3 live-board streams per address"
        assert per_address[0].headers["Retry-After"] == "30"
        assert [open_stream(stack, server, "127.0.0.2").status_code for _ in range(2)] == [200] * 2
        in_all = open_stream(stack, server, "127.0.0.3")
        assert in_all.status_code == 503 and "has its 5 streams open" in in_all.json()["detail"]
        assert httpx.get(f"{server.url}/api/leaderboard", timeout=10).status_code == 200  # the rest still answers
    assert server.log().count("live board: refusing event streams") == 1  # 11 refusals, one line

    deadline = time.monotonic() + 10  # the closed streams' slots are free again
    with contextlib.ExitStack() as stack:
        while open_stream(stack, server, "127.0.0.3").status_code != 200:
            assert time.monotonic() < deadline, "the closed streams were not released"
            time.sleep(0.5)
