"""`convgrade submit` and the student kit's submit.py against a real `convgrade serve` on
loopback: graded, rejected, --no-wait, a bad token, an unreachable server; and against a
minimal HTTP server that answers the API's contract for the states a test cannot make the
real one reach on demand (rejected after the 202, a grader failure)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from http.server import BaseHTTPRequestHandler

import pytest

from grader.grading.result import GradeResult
from tests.loopback_http import LoopbackServer
from tests.service.conftest import ROOT, EXAMPLES, Server, free_port

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("submit"), students=5)
    yield running.start()
    running.stop()


def convgrade_submit(*arguments: str, token: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """The command as a student runs it, its output a pipe (as in a notebook cell: no terminal)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONVGRADE_")}
    if token is not None:
        environment["CONVGRADE_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "grader", "submit", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def test_a_graded_submission_prints_the_summary_and_the_feedback_link(server, tmp_path, capsys):
    layers = tmp_path / "layers.py"
    layers.write_bytes((EXAMPLES / "bug_pad_slice.py").read_bytes())
    # The token from the environment, as a notebook cell sets it (`!convgrade submit layers.py`).
    done = convgrade_submit(str(layers), "--server", server.url, token=server.tokens()["s00"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("submitted layers.py: submission ") and ", queued at position " in lines[0]
    job_id = int(lines[0].split("submission ")[1].split(",")[0])
    assert lines[-1] == f"feedback: {server.url}/me#submission-{job_id}"
    assert "\r" not in done.stdout and "\033" not in done.stdout  # plain lines off a terminal

    # The summary is the one `convgrade grade` prints for the same result.
    with server.client("s00") as client:
        result = GradeResult.model_validate(client.get(f"/api/submissions/{job_id}").json()["result"])
    from grader import cli

    capsys.readouterr()
    cli.print_summary(result)
    printed = capsys.readouterr().err.splitlines()
    assert printed[0] == f"{result.submission.id}: 95/100"
    assert any(line.startswith("  FAILED conv_backward_naive dx") for line in printed), printed
    start = lines.index(printed[0])
    assert lines[start:-1] == printed


def test_the_kits_submit_py_alone_prints_what_convgrade_grade_prints(server, tmp_path, capsys):
    """The kit's copy, run isolated (no grader importable), agrees with the grader's summary."""
    from grader.kit import build

    build.build(tmp_path / "kit.zip")
    with zipfile.ZipFile(tmp_path / "kit.zip") as opened:
        opened.extractall(tmp_path)
    kit = tmp_path / build.TOP
    # Isolated, and with the grader made unimportable: the kit's modules alone answer.
    alone = ("import runpy, sys; sys.modules['grader'] = None; sys.argv = sys.argv[1:]; "
             "runpy.run_path(sys.argv[0], run_name='__main__')")
    done = subprocess.run([sys.executable, "-I", "-c", alone, str(kit / "submit.py"), str(EXAMPLES / "naive_loops.py"),
                           "--server", server.url, "--token", server.tokens()["s01"]],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = int(done.stdout.split("submission ")[1].split(",")[0])
    with server.client("s01") as client:
        result = GradeResult.model_validate(client.get(f"/api/submissions/{job_id}").json()["result"])
    from grader import cli

    capsys.readouterr()
    cli.print_summary(result)
    printed = capsys.readouterr().err.splitlines()
    assert printed[0] == f"{result.submission.id}: 100/100"
    lines = done.stdout.splitlines()
    assert lines[lines.index(printed[0]):-1] == printed


def test_no_wait_returns_once_queued(server, tmp_path):
    done = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", server.url, "--no-wait",
                            "--token", server.tokens()["s02"], timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, lines  # no summary: it did not wait
    job_id = int(lines[0].split("submission ")[1].split(",")[0])
    assert re.fullmatch(rf"submitted fast_strided.py: submission {job_id}, queued at position [1-9]\d*", lines[0])
    assert lines[1] == f"feedback: {server.url}/me#submission-{job_id}"
    assert server.wait_done([job_id])[job_id]["status"] == "graded"  # it was really submitted


def test_a_file_the_loader_refuses_is_rejected(server, tmp_path):
    """The loader's refusal, whether the server answers it before the 202 (422) or after it
    (status rejected, the two-step intake): exit 3 with the loader's message."""
    empty = tmp_path / "layers.py"
    empty.write_text("def unrelated():\n    return 1\n")
    done = convgrade_submit(str(empty), "--server", server.url, "--token", server.tokens()["s03"], timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("rejected: ")]
    assert len(said) == 1 and "conv_forward_naive" in said[0], done.stdout + done.stderr


def test_a_bad_token_an_unknown_file_and_an_unreachable_server_are_usage_errors(server, tmp_path):
    done = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", server.url, "--token", "not-a-token",
                            timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: the server at {server.url} refused the token (401: "), done.stderr
    assert done.stderr.rstrip().endswith("check --token or CONVGRADE_TOKEN")

    missing = convgrade_submit(str(tmp_path / "nope.py"), "--server", server.url, token="t", timeout=60)
    assert (missing.returncode, missing.stderr) == (2, f"error: no such file: {tmp_path / 'nope.py'}\n")

    nobody = f"http://127.0.0.1:{free_port()}"
    gone = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", nobody, token="t", timeout=60)
    assert gone.returncode == 2
    assert gone.stderr.startswith(f"error: cannot reach the server at {nobody}: "), gone.stderr

    no_token = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", server.url, timeout=60)
    assert no_token.returncode == 2
    assert "no token: pass --token or set CONVGRADE_TOKEN" in no_token.stderr


# ------------------------------------------------ the contract's other states, on a minimal server


class ContractServer(LoopbackServer):
    """A real HTTP server on loopback answering the API's contract: the 202, then each GET
    the next of ``states`` (the last one repeated)."""

    def __init__(self, states: list[dict]):
        self.states = states
        self.gets = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, code: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                assert self.headers["Authorization"] == "Bearer good"
                self.answer(202, {"id": 7, "status": "queued", "position": 2})

            def do_GET(self):
                assert self.path == "/api/submissions/7"
                state = outer.states[min(outer.gets, len(outer.states) - 1)]
                outer.gets += 1
                self.answer(200, {"id": 7, "student": "s00", "filename": "layers.py", "position": None,
                                  "created_at": 0.0, "finished_at": None, "message": None, "result": None, **state})

        super().__init__(Handler)


REFUSAL = "layers.py defines none of the functions to grade (conv_forward_naive, conv_backward_naive)"


def test_rejected_after_the_202_exits_3_with_the_loaders_message(tmp_path):
    states = [{"status": "queued", "position": 2}, {"status": "queued", "position": 1},
              {"status": "rejected", "message": REFUSAL}]
    with ContractServer(states) as contract:
        done = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", contract.url, token="good")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "submitted fast_strided.py: submission 7, queued at position 2",
        "queued, position 2", "queued, position 1",  # one plain line per change
        f"rejected: {REFUSAL}",
        f"feedback: {contract.url}/me#submission-7"]


def test_a_grader_failure_exits_1(tmp_path):
    states = [{"status": "running"}, {"status": "failed", "message": "the worker died"}]
    with ContractServer(states) as contract:
        done = convgrade_submit(str(EXAMPLES / "fast_strided.py"), "--server", contract.url, token="good")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[1:] == [
        "being graded",
        "the grader failed (not your submission's fault, and not a grade): the worker died",
        f"feedback: {contract.url}/me#submission-7"]


def test_on_a_terminal_the_wait_is_one_spinner_line_redrawn(tmp_path):
    from tests.test_cli import run_on_a_terminal

    states = [{"status": "queued", "position": 1}, {"status": "queued", "position": 1}, {"status": "running"},
              {"status": "rejected", "message": REFUSAL}]
    with ContractServer(states) as contract:
        code, shown, stderr = run_on_a_terminal("submit", str(EXAMPLES / "fast_strided.py"), "--server", contract.url,
                                                "--token", "good")
    assert code == 3, shown + stderr
    # The terminal turns \n into \r\n; the spinner's frames are \r-redrawn, then erased before the outcome.
    assert "\r| queued, position 1\033[K" in shown or "\r/ queued, position 1\033[K" in shown, repr(shown)
    assert "being graded\033[K" in shown
    assert shown.replace("\r\n", "\n").endswith(f"\r\033[Krejected: {REFUSAL}\nfeedback: {contract.url}/me#submission-7\n")
