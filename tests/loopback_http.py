"""A real HTTP server on loopback in a thread of the test, for tests that script what a
server answers (the submit client against the API's contract, or against a hostile server)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """Serves ``handler`` on a free port of 127.0.0.1 while the ``with`` block runs."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, daemon_threads: bool = False):
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.http.daemon_threads = daemon_threads
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.http.shutdown()
        self.http.server_close()
