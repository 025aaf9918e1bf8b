"""The upload path's gate: no token, no body read; a chunked body is cut off at the cap."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.service.conftest import Server

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("gate"), students=1, args=("--jobs", "1"))
    yield running.start()
    running.stop()


def chunked_upload_head(server, token: str | None) -> bytes:
    authorization = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{authorization}"
            "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n").encode()


def read_status(sock: socket.socket) -> tuple[int, bytes]:
    """The answer's status and its bytes (head and body, as far as Content-Length says)."""
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < body_length(answer):
        piece = sock.recv(65536)
        if not piece:
            break
        answer += piece
    return int(answer.split(b" ", 2)[1]), answer


def body_length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_an_upload_without_a_valid_token_is_refused_before_its_body_is_sent(server, token):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(chunked_upload_head(server, token))  # the headers only: no byte of the body
        status, answer = read_status(sock)
    assert status == 401, answer
    assert b"a valid token is needed" in answer


def test_a_chunked_upload_is_cut_off_at_the_cap_not_spooled_to_its_end(server):
    """64 MiB offered in chunks, with a valid token: the server answers 413 once the 20 MiB
    cap is passed, while the client is still sending."""
    offered, chunk = 64 * 2**20, b"#" * 2**20
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(chunked_upload_head(server, server.tokens()["s00"]))
        part = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.py\"\r\n\r\n"
        sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        answers: list = []
        reader = threading.Thread(target=lambda: answers.append(read_status(sock)), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while sent < offered and not answers and time.monotonic() < deadline:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:  # the server closed the connection after its answer
                break
            sent += len(chunk)
        reader.join(timeout=30)
    assert answers, f"no answer after {sent} bytes"
    status, answer = answers[0]
    assert status == 413, answer
    assert b"the upload is over 20 MiB" in answer
    assert sent < 40 * 2**20, f"the server read {sent} bytes before refusing"
