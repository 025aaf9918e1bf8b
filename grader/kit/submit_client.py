"""Submit one file to a course's `convgrade serve` and wait for its grading.

    convgrade submit layers.py --server https://grader.example.edu [--token T] [--no-wait]
    python submit.py layers.py --server ...          (the student kit's copy of this module)

It uploads (POST /api/submissions with the student's bearer token), tells the queue
position, waits for the grading (GET /api/submissions/{id}, polled), then prints the
summary `convgrade grade` prints and the link to the feedback page. On a terminal a
spinner line is redrawn in place; anywhere else (a notebook cell, a log) it prints one
plain line per change, so `!convgrade submit layers.py` reads well.

Exit status: 0 graded, 1 the grader failed (status failed, a result that is not gradable,
or an answer that is not the API's), 2 a usage error (no such file, no or a wrong token, the
server unreachable or busy), 3 the submission was rejected (the server's loader refused it:
the message says why, on standard output with the other outcomes).

The server is not trusted: every answer is read up to a byte cap and within an overall
deadline, its JSON's shape is checked, and its strings are printed without control
characters and cut to a bounded length.

Standard library and httpx only, and no other module of the grader: the student kit ships
this file as it is. The summary printer is passed in by the caller (``summarize``: the
grader's grader.grading.summary_text, which the kit ships too).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

try:  # a plain install of the grader has it; a copied kit may not: say so, not a traceback
    import httpx
except ImportError:  # pragma: no cover - exercised by a test that hides httpx
    httpx = None

EXIT_GRADED, EXIT_GRADER_FAILED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3
TOKEN_VARIABLE = "CONVGRADE_TOKEN"
SERVER_VARIABLE = "CONVGRADE_SERVER"
POLL_S = 1.0  # one GET a second per waiting student: cheap for the server, prompt enough for a person
SPIN_S = 0.1
LOST_AFTER_S = 60.0  # the server unreachable (or busy) this long while waiting: stop and say so
SPINNER = "|/-\\"
# The server is not trusted: each answer is read up to a cap and within an overall deadline
# (httpx's read timeout is per chunk: a server trickling a byte a second would hold it forever).
SMALL_ANSWER_BYTES = 64 * 1024  # a refusal, the 202
RESULT_ANSWER_BYTES = 4 * 1024 * 1024  # a graded state with its result (a real one is ~50 KiB)
REQUEST_S = 120.0  # one request, upload included, start to last byte
UPLOAD_TRIES = 3  # the upload's 503/429, retried this many times in all
LONGEST_RETRY_AFTER_S = 30.0  # a Retry-After longer than this is not waited for: the student is told
SHOWN_CHARS = 2000  # a string from the server, cut to this before it is printed

Summarize = Callable[[dict], list[str]]


class Stop(Exception):
    """The run ends with this exit status and message (on standard error; a rejection on
    standard output, with the summary's other outcomes)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def shown(text: object, limit: int = SHOWN_CHARS) -> str:
    """A string from the server made safe to print: no terminal escapes or other control
    characters (newlines kept), and at most ``limit`` characters."""
    text = _CONTROL.sub("", str(text))
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def unexpected(what: str) -> Stop:
    return Stop(EXIT_GRADER_FAILED, f"unexpected answer from the server: {what}")


def feedback_link(server: str, job_id: int) -> str:
    return f"{server}/me#submission-{job_id}"


@dataclass
class Answer:
    """One HTTP answer, read up to a cap."""

    status_code: int
    reason_phrase: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    complete: bool = True  # False: the body was longer than the cap (the rest was not read)

    def json(self):
        if not self.complete:
            raise ValueError("answer too long")
        return json.loads(self.body)


class TooSlow(Exception):
    """The server did not finish answering within the request's deadline."""


def fetch(client, method: str, url: str, *, cap: int, deadline_s: float = REQUEST_S, **send) -> Answer:
    """``client.stream(method, url)``, read up to ``cap`` bytes and within ``deadline_s`` in all.

    The request runs on a daemon thread, so a server that trickles its headers or its body
    cannot hold the caller past the deadline; the abandoned thread stops at its next chunk.
    Raises httpx.TransportError (as httpx does) or TooSlow."""
    outcome: dict = {}
    given_up = threading.Event()

    def read() -> None:
        try:
            with client.stream(method, url, **send) as response:
                body, complete = bytearray(), True
                for chunk in response.iter_bytes():
                    if given_up.is_set():
                        return
                    body += chunk
                    if len(body) > cap:
                        del body[cap:]
                        complete = False
                        break
                outcome["answer"] = Answer(response.status_code, response.reason_phrase,
                                           {k.lower(): v for k, v in response.headers.items()}, bytes(body), complete)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        given_up.set()
        raise TooSlow(f"no full answer within {deadline_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def detail(response: Answer) -> str:
    """The server's own reason (FastAPI's {"detail": ...}), or its status line; printable."""
    try:
        said = response.json().get("detail")
    except (ValueError, AttributeError):
        said = None
    if isinstance(said, str) and said:
        return shown(said)
    return shown(f"HTTP {response.status_code} {response.reason_phrase}".strip(), 200)


def validation_words(response: Answer) -> str:
    """A 422 whose detail is not the loader's sentence: FastAPI's list of form errors, bounded."""
    try:
        said = response.json().get("detail")
    except (ValueError, AttributeError):
        said = None
    if isinstance(said, list):
        words = [shown(item.get("msg", item), 200) if isinstance(item, dict) else shown(item, 200)
                 for item in said[:3]]
        return "; ".join(words) + (f"; and {len(said) - 3} more" if len(said) > 3 else "")
    return detail(response)


def retry_after(response: Answer) -> float | None:
    """Retry-After in seconds (the delta form; a date or garbage is ignored)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < 1e6 else None


def refusal(response: Answer, server: str) -> Stop:
    """Why an upload or a poll was refused, as an exit status a script can act on."""
    code = response.status_code
    if code == 401:
        return Stop(EXIT_USAGE, f"the server at {server} refused the token (401: {detail(response)}); "
                                f"check --token or {TOKEN_VARIABLE}")
    if code == 422:
        said = None
        try:
            said = response.json().get("detail")
        except (ValueError, AttributeError):
            pass
        if isinstance(said, str) and said:  # the loader (or the upload's check) refused the file's content
            return Stop(EXIT_REJECTED, f"rejected: {shown(said)}")
        return Stop(EXIT_USAGE, f"the server refused the upload (422): {validation_words(response)}")
    if code in (429, 503):
        wait = retry_after(response)
        return Stop(EXIT_USAGE, "the server is busy: " + (f"try again in {wait:g} s" if wait is not None
                                                          else "try again later") + f" ({detail(response)})")
    if code >= 500:
        return Stop(EXIT_USAGE, f"the server failed: {detail(response)}; try again later")
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
        return f"queued, position {position}" if isinstance(position, int) else "queued"
    if state.get("status") == "running":
        return "being graded"
    return shown(state.get("status"), 80)


def upload(client, server: str, path: Path, *, deadline_s: float = REQUEST_S,
           sleep: Callable[[float], None] = time.sleep) -> dict:
    """POST the file; the 202's JSON, checked. A busy server (503, 429) is retried a few times."""
    content = path.read_bytes()
    for attempt in range(1, UPLOAD_TRIES + 1):
        try:
            response = fetch(client, "POST", f"{server}/api/submissions", cap=SMALL_ANSWER_BYTES,
                             deadline_s=deadline_s, files={"file": (path.name, content)})
        except httpx.TransportError as exc:
            raise Stop(EXIT_USAGE, f"cannot reach the server at {server}: {shown(exc, 300)}") from None
        except TooSlow as exc:
            raise Stop(EXIT_USAGE, f"the server at {server} is too slow: {exc}") from None
        wait = retry_after(response)
        if response.status_code in (429, 503) and attempt < UPLOAD_TRIES and (wait or 0) <= LONGEST_RETRY_AFTER_S:
            sleep(max(wait or POLL_S, POLL_S))
            continue
        break
    if response.status_code != 202:
        raise refusal(response, server)
    try:
        accepted = response.json()
    except ValueError:
        raise unexpected("the upload's answer is not JSON") from None
    if not isinstance(accepted, dict) or type(accepted.get("id")) is not int:
        raise unexpected("the upload's answer has no submission id")
    return accepted


def wait_for(client, server: str, job_id: int, progress: Progress,
             clock: Callable[[], float] = time.monotonic, *, deadline_s: float = REQUEST_S) -> dict:
    """Poll until the submission is graded, failed or rejected; its final state (checked).

    The server unreachable, too slow, overloaded (5xx) or asking to slow down (429) is
    retried, at the pace its Retry-After asks (at most LONGEST_RETRY_AFTER_S), until
    LOST_AFTER_S have passed without a good answer."""
    url = f"{server}/api/submissions/{job_id}"
    next_poll, lost_since, state = 0.0, None, {"status": "queued"}
    while True:
        if clock() >= next_poll:
            next_poll = clock() + POLL_S
            trouble = None
            try:
                response = fetch(client, "GET", url, cap=RESULT_ANSWER_BYTES, deadline_s=deadline_s)
            except (httpx.TransportError, TooSlow) as exc:
                trouble = shown(exc, 300)
            else:
                if response.status_code >= 500 or response.status_code == 429:
                    trouble = detail(response)
                    wait = retry_after(response)
                    if wait is not None:
                        next_poll = clock() + min(max(wait, POLL_S), LONGEST_RETRY_AFTER_S)
                elif response.status_code != 200:
                    raise refusal(response, server)
            if trouble is not None:
                lost_since = lost_since if lost_since is not None else clock()
                if clock() - lost_since > LOST_AFTER_S:
                    raise Stop(EXIT_USAGE, f"lost the server at {server} for {LOST_AFTER_S:.0f} s ({trouble}); "
                                           f"the grading goes on: {feedback_link(server, job_id)}")
            else:
                lost_since = None
                state = checked_state(response)
                if state["status"] in ("graded", "failed", "rejected"):
                    return state
        progress.show(waiting_words(state))
        time.sleep(SPIN_S if progress.live else POLL_S)


def checked_state(response: Answer) -> dict:
    if not response.complete:
        raise unexpected(f"the submission's state is longer than {RESULT_ANSWER_BYTES} bytes")
    try:
        state = response.json()
    except ValueError:
        raise unexpected("the submission's state is not JSON") from None
    if not isinstance(state, dict) or not isinstance(state.get("status"), str):
        raise unexpected("the submission's state has no status")
    return state


def score_line(result: dict, job_id: int) -> str:
    """The summary's first line from whatever of it reads: the fallback when the rest does not."""
    number = (int, float)
    score, most = result.get("score"), result.get("max_score")
    if isinstance(score, number) and isinstance(most, number) and not isinstance(score, bool):
        return f"submission {job_id}: {score:g}/{most:g}"
    return f"submission {job_id}: graded (the summary could not be read: see the feedback page)"


def summary(result: dict, job_id: int, summarize: Summarize) -> list[str]:
    try:
        return [shown(line) for line in summarize(result)]
    except Exception:  # a result this client's summary cannot read: the score, and the page has the rest
        return [score_line(result, job_id)]


def submit(path: Path, server: str, token: str, *, wait: bool, summarize: Summarize,
           out: TextIO = sys.stdout, deadline_s: float = REQUEST_S) -> int:
    """Upload ``path`` and (with ``wait``) follow its grading; the exit status. Raises Stop."""
    server = server.rstrip("/")
    if not path.is_file():
        raise Stop(EXIT_USAGE, f"no such file: {path}")
    if not token:
        raise Stop(EXIT_USAGE, f"no token: pass --token or set {TOKEN_VARIABLE} (your course sent it to you)")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=httpx.Timeout(60.0, connect=10.0)) as client:
        accepted = upload(client, server, path, deadline_s=deadline_s)
        job_id = accepted["id"]
        position = accepted.get("position")
        out.write(f"submitted {shown(path.name, 200)}: submission {job_id}, queued at position "
                  f"{position if isinstance(position, int) else 'unknown'}\n")
        out.flush()
        if not wait:
            out.write(f"feedback: {feedback_link(server, job_id)}\n")
            return EXIT_GRADED
        progress = Progress(out)
        try:
            state = wait_for(client, server, job_id, progress, deadline_s=deadline_s)
        finally:
            progress.done()
    link = f"feedback: {feedback_link(server, job_id)}\n"
    message = state.get("message")
    if state["status"] == "rejected":
        out.write(f"rejected: {shown(message) if message else 'the server gave no reason'}\n{link}")
        return EXIT_REJECTED
    result = state.get("result")
    if state["status"] == "failed" or not isinstance(result, dict) or result.get("gradable") is not True:
        out.write(f"the grader failed (not your submission's fault, and not a grade): "
                  f"{shown(message) if message else 'no message'}\n{link}")
        return EXIT_GRADER_FAILED
    out.write("\n".join(summary(result, job_id, summarize)) + "\n" + link)
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
    if httpx is None:
        sys.stderr.write("error: submitting needs the httpx package: pip install httpx\n")
        return EXIT_USAGE
    try:
        return submit(path, server, token or "", wait=wait, summarize=summarize)
    except Stop as stop:
        if stop.code == EXIT_REJECTED:  # with the other outcomes, on standard output
            sys.stdout.write(f"{stop}\n")
        else:
            sys.stderr.write(f"error: {stop}\n" if stop.code == EXIT_USAGE else f"{stop}\n")
        return stop.code
    except KeyboardInterrupt:
        sys.stderr.write("stopped waiting; the submission stays queued: see the feedback page\n")
        return 130
