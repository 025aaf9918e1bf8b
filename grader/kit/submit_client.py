"""Submit one file to a course's `convgrade serve` and wait for its grading.

    convgrade submit layers.py --server https://grader.example.edu [--token T] [--no-wait]
    python submit.py layers.py --server ...          (the student kit's copy of this module)

It uploads (POST /api/submissions with the student's bearer token), tells the queue
position, waits for the grading (GET /api/submissions/{id}, polled), then prints the
summary `convgrade grade` prints and the link to the feedback page. On a terminal a
spinner line is redrawn in place; anywhere else (a notebook cell, a log) it prints one
plain line per change, so `!convgrade submit layers.py` reads well.

Exit status: 0 graded, 1 the grader (or the server) failed, 2 a usage error (no such file,
no or a wrong token, the server unreachable), 3 the submission was rejected (the server's
loader refused it: the message says why).

Standard library and httpx only, and no other module of the grader: the student kit ships
this file as it is. The summary printer is passed in by the caller (``summarize``: the
grader's grader.grading.summary_text, which the kit ships too).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

import httpx

EXIT_GRADED, EXIT_GRADER_FAILED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3
TOKEN_VARIABLE = "CONVGRADE_TOKEN"
SERVER_VARIABLE = "CONVGRADE_SERVER"
POLL_S = 1.0  # one GET a second per waiting student: cheap for the server, prompt enough for a person
SPIN_S = 0.1
LOST_AFTER_S = 60.0  # the server unreachable this long while waiting: stop and say so
SPINNER = "|/-\\"

Summarize = Callable[[dict], list[str]]


class Stop(Exception):
    """The run ends with this exit status and message (on standard error)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def feedback_link(server: str, job_id: int) -> str:
    return f"{server}/me#submission-{job_id}"


def detail(response: httpx.Response) -> str:
    """The server's own reason (FastAPI's {"detail": ...}), or its status line."""
    try:
        said = response.json().get("detail")
    except (ValueError, AttributeError):
        said = None
    if isinstance(said, str) and said:
        return said
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def refusal(response: httpx.Response, server: str) -> Stop:
    """Why an upload or a poll was refused, as an exit status a script can act on."""
    code = response.status_code
    if code == 401:
        return Stop(EXIT_USAGE, f"the server at {server} refused the token (401: {detail(response)}); "
                                f"check --token or {TOKEN_VARIABLE}")
    if code == 422:  # the loader (or the upload's check) refused the file's content
        return Stop(EXIT_REJECTED, f"rejected: {detail(response)}")
    if code == 429:
        wait = response.headers.get("Retry-After")
        return Stop(EXIT_USAGE, f"too many submissions: {detail(response)}"
                                + (f" (try again in {wait} s)" if wait else ""))
    if code >= 500:
        return Stop(EXIT_GRADER_FAILED, f"the server failed: {detail(response)}")
    return Stop(EXIT_USAGE, f"the server refused the upload: {detail(response)}")


class Progress:
    """The waiting, told: a spinner redrawn in place on a terminal, plain lines elsewhere."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.live = stream.isatty()
        self.last = ""
        self.turn = 0

    def show(self, text: str) -> None:
        if self.live:
            self.turn += 1
            self.stream.write(f"\r{SPINNER[self.turn % len(SPINNER)]} {text}\033[K")
            self.stream.flush()
        elif text != self.last:  # one line per change, not one per poll
            self.stream.write(text + "\n")
            self.stream.flush()
        self.last = text

    def done(self) -> None:
        if self.live and self.last:
            self.stream.write("\r\033[K")
            self.stream.flush()


def waiting_words(state: dict) -> str:
    if state.get("status") == "queued":
        position = state.get("position")
        return f"queued, position {position}" if position is not None else "queued"
    if state.get("status") == "running":
        return "being graded"
    return str(state.get("status"))


def upload(client: httpx.Client, server: str, path: Path) -> dict:
    try:
        response = client.post(f"{server}/api/submissions", files={"file": (path.name, path.read_bytes())})
    except httpx.TransportError as exc:
        raise Stop(EXIT_USAGE, f"cannot reach the server at {server}: {exc}") from None
    if response.status_code != 202:
        raise refusal(response, server)
    return response.json()


def wait_for(client: httpx.Client, server: str, job_id: int, progress: Progress,
             clock: Callable[[], float] = time.monotonic) -> dict:
    """Poll until the submission is graded, failed or rejected; its final state."""
    url = f"{server}/api/submissions/{job_id}"
    next_poll, lost_since, state = 0.0, None, {"status": "queued"}
    while True:
        if clock() >= next_poll:
            next_poll = clock() + POLL_S
            try:
                response = client.get(url)
            except httpx.TransportError as exc:
                lost_since = lost_since if lost_since is not None else clock()
                if clock() - lost_since > LOST_AFTER_S:
                    raise Stop(EXIT_USAGE, f"lost the server at {server} for {LOST_AFTER_S:.0f} s ({exc}); "
                                           f"the grading goes on: {feedback_link(server, job_id)}") from None
            else:
                lost_since = None
                if response.status_code != 200:
                    raise refusal(response, server)
                state = response.json()
                if state.get("status") in ("graded", "failed", "rejected"):
                    return state
        progress.show(waiting_words(state))
        time.sleep(SPIN_S if progress.live else POLL_S)


def submit(path: Path, server: str, token: str, *, wait: bool, summarize: Summarize,
           out: TextIO = sys.stdout) -> int:
    """Upload ``path`` and (with ``wait``) follow its grading; the exit status. Raises Stop."""
    server = server.rstrip("/")
    if not path.is_file():
        raise Stop(EXIT_USAGE, f"no such file: {path}")
    if not token:
        raise Stop(EXIT_USAGE, f"no token: pass --token or set {TOKEN_VARIABLE} (your course sent it to you)")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=httpx.Timeout(60.0, connect=10.0)) as client:
        accepted = upload(client, server, path)
        job_id = accepted["id"]
        out.write(f"submitted {path.name}: submission {job_id}, queued at position {accepted.get('position')}\n")
        out.flush()
        if not wait:
            out.write(f"feedback: {feedback_link(server, job_id)}\n")
            return EXIT_GRADED
        progress = Progress(out)
        try:
            state = wait_for(client, server, job_id, progress)
        finally:
            progress.done()
    link = f"feedback: {feedback_link(server, job_id)}\n"
    if state["status"] == "rejected":
        out.write(f"rejected: {state.get('message') or 'the server gave no reason'}\n{link}")
        return EXIT_REJECTED
    if state["status"] == "failed" or not (state.get("result") or {}).get("gradable", False):
        out.write(f"the grader failed (not your submission's fault, and not a grade): "
                  f"{state.get('message') or 'no message'}\n{link}")
        return EXIT_GRADER_FAILED
    out.write("\n".join(summarize(state["result"])) + "\n" + link)
    return EXIT_GRADED


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="submit.py", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="your .py file, .zip or .ipynb")
    parser.add_argument("--server", default=os.environ.get(SERVER_VARIABLE),
                        help=f"the course's grading server (default: ${SERVER_VARIABLE})")
    parser.add_argument("--token", default=os.environ.get(TOKEN_VARIABLE),
                        help=f"your token (default: ${TOKEN_VARIABLE})")
    parser.add_argument("--no-wait", action="store_true", help="return once the file is queued")
    options = parser.parse_args(argv)
    if not options.server:
        parser.exit(EXIT_USAGE, f"error: no server: pass --server URL or set {SERVER_VARIABLE}\n")
    return options


def main(argv: list[str] | None, summarize: Summarize) -> int:
    """The kit's `python submit.py FILE --server URL`: the exit status."""
    options = arguments(argv)
    return run(options.file, options.server, options.token, wait=not options.no_wait, summarize=summarize)


def run(path: Path, server: str, token: str | None, *, wait: bool, summarize: Summarize) -> int:
    """submit(), its refusals told on standard error; Ctrl-C leaves the submission queued."""
    try:
        return submit(path, server, token or "", wait=wait, summarize=summarize)
    except Stop as stop:
        sys.stderr.write(f"error: {stop}\n" if stop.code == EXIT_USAGE else f"{stop}\n")
        return stop.code
    except KeyboardInterrupt:
        sys.stderr.write("stopped waiting; the submission stays queued: see the feedback page\n")
        return 130
