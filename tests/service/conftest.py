"""A real `convgrade serve` for the service tests: a subprocess on a loopback port, its
own DATA folder and roster, killed (SIGKILL) or stopped by the test that started it."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions" / "examples"
# A real course configuration: correctness only (speed not measured, no what-if copies),
# so a grading takes about a second; the gradings of the tests that need speed use the default.
CORRECTNESS_ONLY = {"timing": {"enabled": False}, "what_if": {"enabled": False}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_roster(folder: Path, count: int) -> Path:
    path = folder / "roster.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "name"])
        for index in range(count):
            writer.writerow([f"s{index:02d}", f"Student {index:02d}"])
    return path


class Server:
    """`convgrade serve` in its own session; ``kill9`` leaves its state exactly as a crash would."""

    def __init__(self, tmp: Path, *, students: int = 3, config: dict | None = None, args: tuple = ()):
        self.tmp = tmp
        self.data = tmp / "data"
        self.roster = write_roster(tmp, students)
        self.config = tmp / "course.json"
        self.config.write_text(json.dumps(CORRECTNESS_ONLY if config is None else config))
        self.args = list(args)
        self.process: subprocess.Popen | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "Server":
        log = open(self.tmp / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader", "serve", "--data", str(self.data), "--roster", str(self.roster),
             "--port", str(self.port), "--config", str(self.config), *self.args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/leaderboard", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer: {self.log()}")

    def log(self) -> str:
        path = self.tmp / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the server and its in-process cluster
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()
        # Harness processes of a killed server finish their grading and exit; don't wait on them.

    def tokens(self) -> dict[str, str]:
        with (self.data / "tokens.csv").open() as stream:
            return {row["id"]: row["token"] for row in csv.DictReader(stream)}

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens()[who]}"},
                            timeout=30)

    def submit(self, who: str, name: str, data: bytes) -> httpx.Response:
        with self.client(who) as client:
            return client.post("/api/submissions", files={"file": (name, data)})

    def wait_done(self, ids, timeout: float = 120) -> dict[int, dict]:
        """The final state of each submission (graded or failed), polled as staff."""
        states: dict[int, dict] = {}
        deadline = time.monotonic() + timeout
        with self.client("staff") as client:
            while time.monotonic() < deadline:
                for job_id in ids:
                    if job_id not in states:
                        state = client.get(f"/api/submissions/{job_id}").json()
                        if state["status"] in ("graded", "failed"):
                            states[job_id] = state
                if len(states) == len(ids):
                    return states
                time.sleep(0.3)
        raise AssertionError(f"not done after {timeout} s: {sorted(set(ids) - set(states))}\n{self.log()[-3000:]}")

    def database(self):
        from grader.service import db

        return db.open_database(db.database_url(None, self.data))


@pytest.fixture
def server_factory(tmp_path):
    started: list[Server] = []

    def make(name: str = "server", **options) -> Server:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        server = Server(folder, **options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def example(name: str) -> bytes:
    return (EXAMPLES / f"{name}.py").read_bytes()


def rows(engine, query: str) -> list:
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(conn.execute(text(query)))
