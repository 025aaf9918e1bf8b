"""Service benchmark (not a test): what `convgrade serve` costs, on real processes.

Starts a Dask scheduler and one `convgrade worker` per core (separate processes, so the
gradings' CPU is not the server's), then `convgrade serve --scheduler` on a loopback
port with a fresh DATA folder, and measures:

1. time to feedback: a fast correct submission (submissions/examples/fast_strided.py)
   on the idle server, from POST to `graded` (polled every 50 ms), with the default
   course configuration (every check and the speed timing);
2. acknowledgement latency: BURST submissions (distinct bytes, so none shares a check or a
   grading) posted at once from STUDENTS tokens, each on its own connection from one
   asyncio loop (``post_at_once``), while a grading runs (one default-configuration
   grading is submitted first); p50, p95 and p99 of POST /api/submissions until its 202
   (targets: p95 < 100 ms, p99 < 250 ms);
3. the server's own CPU per submission, excluding grading: the server process's user +
   system CPU time (from /proc) over the burst until every submission is graded, divided
   by BURST. The burst is graded with a correctness-only course configuration so it ends
   in minutes. Target: at most 5 ms. (What an idle server spends, uvicorn's and Dask's
   timers, is part of it, so it falls when the gradings end sooner.)
4. sustained acknowledgement latency: RATE uploads a second for SECONDS (each on its own
   connection, started on schedule whatever the answers), p50/p95/p99 (target: p95 < 50 ms);
5. a rejected upload's latency: REJECTS uploads that define no conv function, one at a
   time, from their 202 until GET shows `rejected` (polled every 10 ms); the median
   (target: under 1 s).

    make bench-service
    python bench/bench_service.py [--burst 200] [--students 20] [--rate 20] [--seconds 60] [--rejects 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FAST = ROOT / "submissions" / "examples" / "fast_strided.py"
# The burst's course configuration (as in the burst test): correctness only, one hidden case.
CORRECTNESS_ONLY = {"timing": {"enabled": False}, "what_if": {"enabled": False}, "hidden_cases": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if process.poll() is not None:
            sys.exit(f"{what} exited")
        time.sleep(0.2)
    sys.exit(f"{what} did not listen")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def serve(cluster: Cluster, folder: Path, scheduler: str, students: int, config: dict, rate: str):
    roster = folder / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{i:02d},Student {i:02d}\n" for i in range(students)))
    (folder / "course.json").write_text(json.dumps(config))
    port = free_port()
    process = cluster.start(f"server-{folder.name}", [
        sys.executable, "-m", "grader", "serve", "--data", str(folder / "data"), "--roster", str(roster),
        "--port", str(port), "--scheduler", scheduler, "--config", str(folder / "course.json"), "--rate-limit", rate])
    wait_port(port, process, "the server")
    with open(folder / "data" / "tokens.csv") as stream:
        tokens = {row["id"]: row["token"] for row in csv.DictReader(stream)}
    return process, f"http://127.0.0.1:{port}", tokens


def wait_graded(url: str, token: str, count: int) -> None:
    """Until ``count`` submissions are graded: one health call a second, so the waiting
    costs the server next to nothing."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while True:
            health = client.get("/api/health").json()
            if health["failed"]:
                sys.exit(f"{health['failed']} submission(s) failed")
            if health["graded"] >= count:
                return
            time.sleep(1.0)


def time_to_feedback(url: str, tokens: dict, run: int) -> float:
    # Other bytes each run: the same file again would share the first one's grading.
    data = FAST.read_bytes() + f"\n# run {run}\n".encode()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['s00']}"}, timeout=60) as client:
        started = time.perf_counter()
        job = client.post("/api/submissions", files={"file": ("layers.py", data)}).json()["id"]
        while client.get(f"/api/submissions/{job}").json()["status"] not in ("graded", "failed"):
            time.sleep(0.05)
        return time.perf_counter() - started


def upload_request(url: str, token: str, data: bytes) -> bytes:
    """POST /api/submissions as the bytes on the wire (httpx encodes the multipart body)."""
    request = httpx.Request("POST", f"{url}/api/submissions", files={"file": ("layers.py", data)},
                            headers={"Authorization": f"Bearer {token}"})
    head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    return f"POST /api/submissions HTTP/1.1\r\n{head}\r\n".encode() + request.read()


async def post_at_once(url: str, requests: list[bytes]) -> list[tuple[float, int, bytes]]:
    """Send every request at once, each on its own open connection; (latency, status, body)
    of each. Each latency runs from the moment its request is written until its answer has
    arrived: on a thread-per-request client the clients' own work under the GIL (a
    millisecond or two a request) piles up and is measured as the server's."""
    host, port = url.removeprefix("http://").split(":")
    connections = [await asyncio.open_connection(host, int(port)) for _ in requests]

    async def exchange(connection, request: bytes) -> tuple[float, int, bytes]:
        reader, writer = connection
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        body = await reader.readexactly(length)
        latency = time.perf_counter() - started
        writer.close()
        return latency, int(head.split(b" ", 2)[1]), body

    return await asyncio.gather(*(exchange(c, r) for c, r in zip(connections, requests)))


def burst(url: str, tokens: dict, count: int, students: int) -> tuple[list[float], list[int]]:
    requests = [upload_request(url, tokens[f"s{i % students:02d}"], FAST.read_bytes() + f"\n# upload {i}\n".encode())
                for i in range(count)]
    latencies, ids = [], []
    for index, (latency, status, body) in enumerate(asyncio.run(post_at_once(url, requests))):
        latencies.append(latency)
        if status != 202:
            print(f"upload {index}: {status} {body.decode(errors='replace')}", file=sys.stderr)
        else:
            ids.append(json.loads(body)["id"])
    return latencies, ids


NO_CONV = b"import numpy as np\n\ndef conv_forward_fast(x, w, b, conv_param):\n    return x\n"


def sustained(url: str, tokens: dict, students: int, rate: float, seconds: float) -> tuple[list[float], int]:
    """Uploads started every 1/rate s for ``seconds`` (on schedule, not after the answers);
    the latency of each (from its request written to its answer) and how many were 202."""
    host, port = url.removeprefix("http://").split(":")

    async def one(index: int) -> tuple[float, int]:
        request = upload_request(url, tokens[f"s{index % students:02d}"],
                                 FAST.read_bytes() + f"\n# sustained {index}\n".encode())
        reader, writer = await asyncio.open_connection(host, int(port))
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        await reader.readexactly(length)
        latency = time.perf_counter() - started
        writer.close()
        return latency, int(head.split(b" ", 2)[1])

    async def run() -> list[tuple[float, int]]:
        tasks, start = [], time.perf_counter()
        for index in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            tasks.append(asyncio.ensure_future(one(index)))
        return await asyncio.gather(*tasks)

    answers = asyncio.run(run())
    return [latency for latency, _ in answers], sum(1 for _, status in answers if status == 202)


def rejected_latency(url: str, token: str, count: int) -> list[float]:
    """Seconds from each 202 of a file the loader refuses until GET shows it `rejected`."""
    seen = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for index in range(count):
            answer = client.post("/api/submissions", files={"file": ("layers.py", NO_CONV + f"# {index}\n".encode())})
            answer.raise_for_status()
            acknowledged = time.perf_counter()
            while (state := client.get(f"/api/submissions/{answer.json()['id']}").json())["status"] == "queued":
                time.sleep(0.01)
            if state["status"] != "rejected":
                sys.exit(f"a file without the conv function was {state['status']}")
            seen.append(time.perf_counter() - acknowledged)
    return seen


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rejects", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="convgrade-bench-service-") as temp:
        folder = Path(temp)
        cluster = Cluster(folder)
        try:
            port = free_port()
            scheduler = f"tcp://127.0.0.1:{port}"
            wait_port(port, cluster.start("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler",
                                                        "--host", "127.0.0.1", "--port", str(port),
                                                        "--no-dashboard"]), "the scheduler")
            cluster.start("worker", [sys.executable, "-m", "grader", "worker", scheduler])
            time.sleep(5)  # the workers join

            idle = folder / "idle"
            idle.mkdir()
            _, url, tokens = serve(cluster, idle, scheduler, 1, {}, "100/600")
            time_to_feedback(url, tokens, 0)  # warm: the workers' first grading imports numpy and the reference
            feedback = [time_to_feedback(url, tokens, run) for run in (1, 2)]
            rejects = rejected_latency(url, tokens["staff"], args.rejects)
            # A grading in flight while the burst arrives (default configuration: it takes seconds).
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['staff']}"}) as client:
                client.post("/api/submissions", files={"file": ("layers.py", FAST.read_bytes() + b"\n# busy\n")})

            loaded = folder / "burst"
            loaded.mkdir()
            server, url, tokens = serve(cluster, loaded, scheduler, args.students, CORRECTNESS_ONLY,
                                        f"{args.burst}/600")
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['staff']}"}) as client:
                busy = client.post("/api/submissions", files={"file": ("layers.py", FAST.read_bytes())}).json()["id"]
                while client.get(f"/api/submissions/{busy}").json()["status"] != "running":
                    time.sleep(0.05)
            before = cpu_seconds(server.pid)
            latencies, ids = burst(url, tokens, args.burst, args.students)
            acknowledged = [job for job in ids if job]
            wait_graded(url, tokens["staff"], len(acknowledged) + 1)
            server_cpu = cpu_seconds(server.pid) - before

            steady = folder / "sustained"
            steady.mkdir()
            _, url, tokens = serve(cluster, steady, scheduler, args.students, CORRECTNESS_ONLY, "100000/600")
            steady_latencies, steady_acknowledged = sustained(url, tokens, args.students, args.rate, args.seconds)
        finally:
            cluster.stop()
    print(f"time to feedback (fast correct submission, idle server, default config): "
          f"median {statistics.median(feedback):.2f} s of {', '.join(f'{f:.2f}' for f in feedback)}")
    print(f"acknowledgement latency ({args.burst} posted at once from {args.students} tokens while a grading "
          f"runs, {len(acknowledged)} acknowledged): p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms (targets: p95 < 100 ms, p99 < 250 ms)")
    print(f"server CPU per submission, excluding grading (upload, check hand-off, queue, dispatch, result): "
          f"{server_cpu / max(1, len(acknowledged)) * 1000:.1f} ms ({server_cpu:.2f} s for {len(acknowledged)}; "
          f"target: at most 5 ms)")
    print(f"sustained acknowledgement latency ({args.rate:g} uploads/s for {args.seconds:g} s, "
          f"{steady_acknowledged} of {len(steady_latencies)} acknowledged): "
          f"p50 {percentile(steady_latencies, 0.5) * 1000:.0f} ms, p95 {percentile(steady_latencies, 0.95) * 1000:.0f} ms, "
          f"p99 {percentile(steady_latencies, 0.99) * 1000:.0f} ms (target: p95 < 50 ms)")
    print(f"rejected status visible after the 202 ({len(rejects)} files without the conv function): median "
          f"{statistics.median(rejects) * 1000:.0f} ms, max {max(rejects) * 1000:.0f} ms (target: median < 1 s)")


if __name__ == "__main__":
    main()
