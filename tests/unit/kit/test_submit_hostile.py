"""`convgrade submit` does not trust the server: a hostile or broken one on loopback (huge
answers, terminal escapes, answers that are not the API's, a trickle of bytes, busy or
failing answers) gets a bounded, printable outcome and the right exit status, never a
traceback or a hang."""

from __future__ import annotations

import io
import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from grader.grading.summary_text import summary_lines
from grader.kit import submit_client
from grader.kit.submit_client import Stop, run, submit
from tests.loopback_http import LoopbackServer

ESCAPES = "\x1b[2J\x1b]0;owned\x07evil\rline\nnext\x00"


class Hostile(LoopbackServer):
    """A real HTTP server on loopback; ``answers`` maps "POST" or "GET" to a list of
    (code, body bytes, headers, trickle seconds per byte) answered in turn, the last repeated."""

    def __init__(self, answers: dict[str, list[tuple]]):
        self.answers = answers
        self.served = {"POST": 0, "GET": 0}
        self.times: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, method: str) -> None:
                if method == "POST":
                    self.rfile.read(int(self.headers["Content-Length"]))
                outer.times.append(time.monotonic())
                turn = outer.answers[method]
                code, body, headers, trickle = turn[min(outer.served[method], len(turn) - 1)]
                outer.served[method] += 1
                self.send_response(code)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    if trickle:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(trickle)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self):
                self.reply("POST")

            def do_GET(self):
                self.reply("GET")

        super().__init__(Handler, daemon_threads=True)


def answer(code: int, document, headers: dict | None = None, trickle: float = 0.0) -> tuple:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return code, body, {"Content-Type": "application/json", **(headers or {})}, trickle


ACCEPTED = answer(202, {"id": 7, "status": "queued", "position": 2})


@pytest.fixture
def layers(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text("def conv_forward_naive(x, w, b, conv_param):\n    return None, None\n")
    return path


def submitted(layers, answers, **options):
    """submit()'s exit status and output, or the Stop it raised."""
    out = io.StringIO()
    with Hostile(answers) as server:
        try:
            code = submit(layers, server.url, "good", wait=True, summarize=summary_lines, out=out, **options)
        except Stop as stop:
            return stop.code, str(stop), server
    return code, out.getvalue(), server


def test_a_5_mb_refusal_is_read_up_to_the_cap_and_told_by_its_status_line(layers):
    huge = answer(400, {"detail": "x" * 5_000_000})
    started = time.monotonic()
    code, said, _ = submitted(layers, {"POST": [huge]})
    assert (code, said) == (2, "the server refused the upload: HTTP 400 Bad Request")
    assert time.monotonic() - started < 10


def test_terminal_escapes_and_control_characters_are_not_printed(layers):
    rejected = answer(200, {"id": 7, "status": "rejected", "message": ESCAPES})
    code, out, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [rejected]})
    assert code == 3
    assert out.splitlines()[-3:] == ["rejected: [2J]0;ownedevilline", "next", f"feedback: {_url(out)}/me#submission-7"]
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\x00" not in out


def _url(out: str) -> str:
    return out.splitlines()[-1].split("feedback: ")[1].split("/me#")[0]


def test_a_long_message_is_cut_before_it_is_printed(layers):
    failed = answer(200, {"id": 7, "status": "failed", "message": "y" * 100_000})
    code, out, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [failed]})
    assert code == 1
    line = out.splitlines()[1]
    assert line == ("the grader failed (not your submission's fault, and not a grade): "
                    + "y" * 2000 + "... (98000 more characters)")


@pytest.mark.parametrize("accepted, why", [
    ((202, b"<html>queued</html>", {}, 0.0), "the upload's answer is not JSON"),
    (answer(202, {"status": "queued", "position": 1}), "the upload's answer has no submission id"),
    (answer(202, {"id": "7"}), "the upload's answer has no submission id"),
    (answer(202, [7]), "the upload's answer has no submission id"),
])
def test_an_upload_answer_that_is_not_the_apis_exits_1(layers, accepted, why):
    code, said, _ = submitted(layers, {"POST": [accepted]})
    assert (code, said) == (1, f"unexpected answer from the server: {why}")


@pytest.mark.parametrize("state, why", [
    ((200, b"not json", {}, 0.0), "the submission's state is not JSON"),
    (answer(200, ["graded"]), "the submission's state has no status"),
    (answer(200, {"id": 7, "status": 3}), "the submission's state has no status"),
    (answer(200, {"id": 7, "status": "graded", "result": {"pad": "z" * 5_000_000}}),
     "the submission's state is longer than 4194304 bytes"),
])
def test_a_state_that_is_not_the_apis_exits_1(layers, state, why):
    code, said, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [state]})
    assert (code, said) == (1, f"unexpected answer from the server: {why}")


def test_a_partial_graded_result_falls_back_to_the_score_line(layers):
    partial = answer(200, {"id": 7, "status": "graded", "result": {"gradable": True, "score": 50, "max_score": 100}})
    code, out, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [partial]})
    assert code == 0
    assert out.splitlines()[1:] == ["submission 7: 50/100", f"feedback: {_url(out)}/me#submission-7"]

    unreadable = answer(200, {"id": 7, "status": "graded", "result": {"gradable": True, "score": "lots"}})
    code, out, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [unreadable]})
    assert code == 0
    assert out.splitlines()[1] == "submission 7: graded (the summary could not be read: see the feedback page)"

    not_gradable = answer(200, {"id": 7, "status": "graded", "result": {"gradable": "yes"}})
    code, out, _ = submitted(layers, {"POST": [ACCEPTED], "GET": [not_gradable]})
    assert code == 1


def test_a_trickling_server_is_given_up_at_the_requests_deadline(layers):
    trickle = answer(202, {"id": 7, "status": "queued", "position": 2, "pad": "p" * 200}, trickle=0.05)
    started = time.monotonic()
    code, said, server = submitted(layers, {"POST": [trickle]}, deadline_s=0.5)
    elapsed = time.monotonic() - started
    assert (code, said) == (2, f"the server at {server.url} is too slow: no full answer within 0.5 s")
    assert elapsed < 3, elapsed  # the whole answer would take 12 s; httpx's per-chunk timeout never fires


def test_a_busy_poll_is_retried_at_the_pace_of_retry_after(layers):
    busy = answer(503, {"detail": "overloaded"}, {"Retry-After": "2"})
    graded = answer(200, {"id": 7, "status": "failed", "message": "the worker died"})
    code, out, server = submitted(layers, {"POST": [ACCEPTED], "GET": [busy, answer(429, {}), busy, graded]})
    assert code == 1 and server.served["GET"] == 4
    assert out.splitlines()[1:-1] == ["queued", "the grader failed (not your submission's fault, and not a grade): "
                                                "the worker died"]
    gets = server.times[1:]
    assert gets[1] - gets[0] >= 1.9 and gets[3] - gets[2] >= 1.9  # Retry-After: 2 honoured
    assert gets[2] - gets[1] < 1.9  # a 429 without Retry-After: the usual pace


def test_a_poll_failing_for_longer_than_lost_after_stops_as_lost(layers, monkeypatch):
    monkeypatch.setattr(submit_client, "LOST_AFTER_S", 1.5)
    code, said, server = submitted(layers, {"POST": [ACCEPTED], "GET": [answer(500, {"detail": "boom"})]})
    assert code == 2
    assert said == (f"lost the server at {server.url} for 2 s (boom); the grading goes on: "
                    f"{server.url}/me#submission-7")


def test_a_busy_upload_is_retried_then_told_when_to_try_again(layers):
    busy = answer(503, {"detail": "the queue is full"}, {"Retry-After": "1"})
    code, said, server = submitted(layers, {"POST": [busy]})
    assert (code, said) == (2, "the server is busy: try again in 1 s (the queue is full)")
    assert server.served["POST"] == 3

    code, said, server = submitted(layers, {"POST": [busy, ACCEPTED], "GET": [answer(200, {"status": "rejected"})]})
    assert code == 3 and server.served["POST"] == 2

    far = answer(429, {"detail": "too many submissions"}, {"Retry-After": "600"})
    code, said, server = submitted(layers, {"POST": [far]})
    assert (code, said) == (2, "the server is busy: try again in 600 s (too many submissions)")
    assert server.served["POST"] == 1  # not waited for


def outcome_of_run(layers, answers, capsys) -> tuple[int, str, str]:
    with Hostile(answers) as server:
        code = run(layers, server.url, "good", wait=True, summarize=summary_lines)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_rejection_before_the_202_is_on_standard_output_like_one_after_it(layers, capsys):
    code, out, err = outcome_of_run(layers, {"POST": [answer(422, {"detail": "no conv_forward_naive"})]}, capsys)
    assert (code, out, err) == (3, "rejected: no conv_forward_naive\n", "")


def test_a_form_validation_422_is_a_usage_error_bounded(layers, capsys):
    form = {"detail": [{"type": "missing", "loc": ["body", "file"], "msg": "Field required " + "m" * 500}] * 5}
    code, out, err = outcome_of_run(layers, {"POST": [answer(422, form)]}, capsys)
    one = "Field required " + "m" * 185 + "... (315 more characters)"
    assert (code, out) == (2, "")
    assert err == f"error: the server refused the upload (422): {one}; {one}; {one}; and 2 more\n"


def test_without_httpx_the_command_says_what_to_install(layers, capsys, monkeypatch):
    monkeypatch.setattr(submit_client, "httpx", None)
    assert run(layers, "http://127.0.0.1:9", "good", wait=True, summarize=summary_lines) == 2
    assert capsys.readouterr().err == "error: submitting needs the httpx package: pip install httpx\n"
