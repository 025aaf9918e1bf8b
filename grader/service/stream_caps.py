"""Caps on the live page's event streams: per client address and in all.

Each open ``/events`` stream holds a descriptor for as long as its client likes, and the
page needs no token, so without a cap anyone can open streams until the server runs out of
descriptors (1,100 streams did it: authenticated calls timed out, and each refused accept
was logged). Past ``per_address`` streams from one address the server answers 429, past
``total`` 503, both with Retry-After (a browser's EventSource gives up on them; the page's
30-second refresh still works). Behind a proxy, the address is the one the proxy forwards
(uvicorn reads X-Forwarded-For from a proxy on loopback).

A burst of refusals is logged once, when it starts, and once when it ends (how many were
refused), not once per request.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

BURST_QUIET_S = 10.0
"""A burst ends when no stream was refused for this long (reported at the next stream accepted)."""


class StreamCaps:
    def __init__(self, total: int, per_address: int, log: Callable[[str], None]):
        self.total = total
        self.per_address = per_address
        self.log = log
        self.open: dict[str, int] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.refused_in_burst = 0
        self.last_refusal = 0.0

    def admit(self, address: str) -> tuple[int, str] | None:
        """None when a stream from ``address`` may open (then ``release`` it when it closes);
        else the status and the message to answer."""
        with self.lock:
            now = time.monotonic()
            if self.refused_in_burst and now - self.last_refusal > BURST_QUIET_S:
                self._end_burst()
            if self.open.get(address, 0) >= self.per_address:
                refusal = 429, f"at most {self.per_address} live-board streams per address"
            elif self.count >= self.total:
                refusal = 503, f"the live board has its {self.total} streams open; it refreshes by itself later"
            else:
                self.open[address] = self.open.get(address, 0) + 1
                self.count += 1
                return None
            if not self.refused_in_burst:
                self.log(f"live board: refusing event streams ({refusal[1]}; {self.count} open); "
                         "logged once for the burst")
            self.refused_in_burst += 1
            self.last_refusal = now
            return refusal

    def release(self, address: str) -> None:
        with self.lock:
            self.count -= 1
            left = self.open[address] - 1
            if left:
                self.open[address] = left
            else:
                del self.open[address]  # the table holds open addresses only

    def _end_burst(self) -> None:
        self.log(f"live board: the burst is over: {self.refused_in_burst} event stream(s) refused")
        self.refused_in_burst = 0
