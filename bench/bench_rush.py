"""The deadline rush (not a test): a class submits over the last ten minutes before a deadline
to a real `convgrade serve` on loopback, while 300 live-board streams stay open.

The class (bench/rush_class.py, seeded): STUDENTS students with 1-3 uploads each, about 60%
loop solutions, the rest vectorised, broken, with a mechanical first error, and a few the
loader refuses; arrivals over 10 minutes with density rising as t squared toward the
deadline, replayed COMPRESS times faster. The course configuration is correctness only: a
loop solution takes about 40 s to grade with speed timing, so a class of 100 would need
over an hour of this machine; checking alone takes about half a second, and the queue, its
order and the service's overhead are what this benchmark measures.

Each run starts its own server and grading slots, and measures:
- acknowledgement latency of every POST (connect to the whole answer), p50/p95/p99;
- time to feedback (the POST is sent until the grading is written: the job table's
  finished_at), p50/p95 over all graded uploads and over each student's first graded one;
- the largest queue depth (GET /api/health twice a second);
- the server's own CPU per upload (its process's utime + stime from /proc, over the rush;
  gradings run in other processes), and the part of it the open streams cost when idle;
- STREAMS open GET /events streams (8 per client address, from 127.0.1.x: the default
  caps, unchanged): the server's RSS before and with them, its CPU with them at idle, and
  the events each stream received;
- the same arrivals, each with its grading's measured wall time, through an ideal fair
  queue with the run's slots (bench/fair_queue.py): first uploads' p95 over the ideal's;
- the guarantees: every upload answered (202 or a refusal, never a dropped connection or
  a 5xx), every acknowledged upload graded once (the job table after the run: attempts 1,
  one result), the loader's refusals ending `rejected` (or refused with 422 before storing).

Runs: ``in-process`` (the server's own cluster, one slot per usable core), and ``hosts=1``
and ``hosts=2``: a Dask scheduler and one `convgrade worker` (one slot, its own core) per
host, each host a network namespace with its own link (bench/netns_hosts.py; needs root).
The last line compares one host with two.

    make bench-rush
    python bench/bench_rush.py [--students 40] [--compress 20] [--runs in-process,hosts=1,hosts=2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: bench.* as the tests import it

import httpx  # noqa: E402

from bench.bench_service import Cluster, cpu_seconds, free_port, wait_port  # noqa: E402
from bench.fair_queue import Job, percentile, times_to_feedback  # noqa: E402
from bench.netns_hosts import NetnsHosts  # noqa: E402
from bench.rush_class import Upload, rush_class  # noqa: E402

WINDOW_S = 600.0
CORRECTNESS_ONLY = {"timing": {"enabled": False}, "what_if": {"enabled": False}}
WARM_UP = ROOT / "submissions" / "examples" / "fast_strided.py"
STREAMS_PER_ADDRESS = 8  # the server's default per-address cap
CAP_PROBE = "one_more_from_a_full_address"
RATE_LIMIT = 5  # submissions per student per 10 minutes: the server's default, given explicitly
DONE = ("graded", "failed", "rejected")


@dataclass
class Posted:
    upload: Upload
    sent_wall: float
    latency_s: float | None
    status: int | None
    body: str
    job: int | None = None
    visible_s: float | None = None
    """For an upload the loader refuses: seconds from its 202 until GET shows it rejected."""


@dataclass
class Run:
    name: str
    slots: int = 0
    posted: list[Posted] = field(default_factory=list)
    rows: dict[int, dict] = field(default_factory=dict)
    rush_s: float = 0.0
    server_cpu_s: float = 0.0
    max_queue: int = 0
    streams: dict = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    timed_out: bool = False


def rss_kib(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def upload_request(host: str, token: str, filename: str, data: bytes) -> bytes:
    request = httpx.Request("POST", f"http://{host}/api/submissions", files={"file": (filename, data)},
                            headers={"Authorization": f"Bearer {token}"})
    head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    return f"POST /api/submissions HTTP/1.1\r\n{head}\r\n".encode() + request.read()


async def exchange(host: str, port: int, request: bytes, timeout: float = 60) -> tuple[int, str]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
        return int(head.split(b" ", 2)[1]), body.decode(errors="replace")
    finally:
        writer.close()


async def open_streams(port: int, count: int) -> tuple[list, Counter]:
    """``count`` GET /events streams, STREAMS_PER_ADDRESS from each of 127.0.1.1, 127.0.1.2, ...
    (all loopback); (the open ones as (reader, writer), the answers' status counts)."""
    opened, statuses = [], Counter()
    for index in range(count):
        source = f"127.0.1.{1 + index // STREAMS_PER_ADDRESS}"
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        status = int(head.split(b" ", 2)[1])
        statuses[status] += 1
        if status == 200:
            opened.append((reader, writer))
        else:
            writer.close()
    return opened, statuses


async def drain(reader, events: list[int], index: int) -> None:
    """Read a stream until it closes, counting its ``data:`` events."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            events[index] += chunk.count(b"data: ")


async def post_at(start: float, compress: float, upload: Upload, token: str, port: int) -> Posted:
    await asyncio.sleep(max(0.0, start + upload.at_s / compress - time.perf_counter()))
    request = upload_request(f"127.0.0.1:{port}", token, upload.filename, upload.data)
    sent_wall, sent = time.time(), time.perf_counter()
    try:
        status, body = await exchange("127.0.0.1", port, request)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
        return Posted(upload, sent_wall, None, None, f"{type(exc).__name__}: {exc}")
    posted = Posted(upload, sent_wall, time.perf_counter() - sent, status, body)
    if status == 202:
        posted.job = json.loads(body)["id"]
        if upload.kind == "refused":
            posted.visible_s = await visible_after(port, token, posted.job, sent_wall + posted.latency_s)
    return posted


async def visible_after(port: int, token: str, job: int, acknowledged_wall: float) -> float | None:
    """Seconds from the 202 until GET shows the job done (20 polls a second, at most 60 s)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(1200):
            if (await client.get(f"/api/submissions/{job}")).json()["status"] in DONE:
                return time.time() - acknowledged_wall
            await asyncio.sleep(0.05)
    return None


async def rush(run: Run, pid: int, port: int, tokens: dict, uploads: list[Upload], args) -> None:
    run.streams["rss_before_kib"] = rss_kib(pid)
    before = cpu_seconds(pid)
    await asyncio.sleep(5)
    run.streams["idle_cpu_share_without"] = (cpu_seconds(pid) - before) / 5
    streams, statuses = await open_streams(port, args.streams)
    if args.streams >= STREAMS_PER_ADDRESS:  # one more from a full address: the cap holds at the rush
        extra, extra_status = await open_streams(port, 1)
        run.streams[CAP_PROBE] = dict(extra_status)
        for _, writer in extra:
            writer.close()
    events = [0] * len(streams)
    drains = [asyncio.create_task(drain(reader, events, index)) for index, (reader, _) in enumerate(streams)]
    before = cpu_seconds(pid)
    await asyncio.sleep(5)
    run.streams.update(statuses=dict(statuses), idle_cpu_share=(cpu_seconds(pid) - before) / 5,
                       rss_with_kib=rss_kib(pid))

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                 headers={"Authorization": f"Bearer {tokens['staff']}"}) as staff:
        start, cpu_start = time.perf_counter(), cpu_seconds(pid)
        # The intruder's token is no token at all: refused before its body is read.
        posts = asyncio.gather(*(post_at(start, args.compress, upload, tokens.get(upload.student, "not-a-token"), port)
                                 for upload in uploads))
        deadline = start + WINDOW_S / args.compress + args.timeout
        while True:
            health = (await staff.get("/api/health")).json()
            run.max_queue = max(run.max_queue, health["queue_depth"])
            if posts.done() and health["queue_depth"] == 0 and health["running"] == 0:
                break
            if time.perf_counter() > deadline:
                run.timed_out = True
                break
            await asyncio.sleep(0.5)
        run.rush_s = time.perf_counter() - start
        run.server_cpu_s = cpu_seconds(pid) - cpu_start
        run.posted = await posts if posts.done() else []
        if not posts.done():
            posts.cancel()
    run.streams.update(rss_peak_kib=rss_kib(pid, "VmHWM"), rss_end_kib=rss_kib(pid),
                       events_median=statistics.median(events) if events else 0, events_min=min(events, default=0))
    for _, writer in streams:
        writer.close()
    for task in drains:
        task.cancel()
    await asyncio.gather(*drains, return_exceptions=True)


def serve(cluster: Cluster, folder: Path, students: list[str], scheduler: str | None):
    roster = folder / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{s},Student {s}\n" for s in students))
    (folder / "course.json").write_text(json.dumps(CORRECTNESS_ONLY))
    port = free_port()
    argv = [sys.executable, "-m", "grader", "serve", "--data", str(folder / "data"), "--roster", str(roster),
            "--port", str(port), "--config", str(folder / "course.json"), "--rate-limit", f"{RATE_LIMIT}/600"]
    process = cluster.start("server", argv + (["--scheduler", scheduler] if scheduler else []))
    wait_port(port, process, "the server")
    with open(folder / "data" / "tokens.csv") as stream:
        tokens = {row["id"]: row["token"] for row in csv.DictReader(stream)}
    return process, port, tokens


def warm_up(port: int, token: str, slots: int) -> None:
    """One grading per slot first: a slot's first grading imports numpy and the reference."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as client:
        jobs = [client.post("/api/submissions", files={"file": ("layers.py", WARM_UP.read_bytes()
                                                                 + f"\n# warm-up {i}\n".encode())}).json()["id"]
                for i in range(slots)]
        deadline = time.monotonic() + 300
        while any(client.get(f"/api/submissions/{job}").json()["status"] not in DONE for job in jobs):
            if time.monotonic() > deadline:
                sys.exit("the warm-up gradings did not finish in 5 minutes")
            time.sleep(0.2)


def wait_slots(port: int, token: str, slots: int) -> int:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        deadline = time.monotonic() + 120
        while (workers := client.get("/api/health").json()["workers"]) < slots:
            if time.monotonic() > deadline:
                sys.exit(f"only {workers} of {slots} grading slots joined in 2 minutes")
            time.sleep(0.5)
    return workers


def read_jobs(folder: Path) -> dict[int, dict]:
    """The job table after the run: each job's state, and its result's count and wall time."""
    with contextlib.closing(sqlite3.connect(folder / "data" / "convgrade.db")) as db:
        db.row_factory = sqlite3.Row
        rows = {row["id"]: dict(row) | {"results": 0, "grading_s": None} for row in
                db.execute("SELECT id, student_id, status, attempts, finished_at, message FROM submissions")}
        for job, result_json in db.execute("SELECT submission_id, result_json FROM results"):
            rows[job]["results"] += 1
            rows[job]["grading_s"] = json.loads(result_json)["wall_time_s"]
    return rows


def run_once(name: str, uploads: list[Upload], args) -> Run:
    run = Run(name)
    students = sorted({upload.student for upload in uploads if upload.kind != "intruder"})
    usable = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="convgrade-bench-rush-") as temp:
        folder = Path(temp)
        cluster, hosts = Cluster(folder), NetnsHosts()
        try:
            scheduler = None
            if name.startswith("hosts="):
                count = int(name.split("=")[1])
                links = [hosts.add(index) for index in range(1, count + 1)]
                port = free_port()
                address = hosts.scheduler_address()
                wait_port_at(address, port, cluster.start("scheduler", [
                    sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", address, "--port", str(port),
                    "--no-dashboard"]))
                scheduler = f"tcp://{address}:{port}"
                for index, (netns, _, _) in enumerate(links, start=1):
                    cluster.start(f"worker{index}", hosts.run_in(netns, [
                        sys.executable, "-m", "grader", "worker", scheduler, "--cores",
                        str(usable[(index - 1) % len(usable)]), "--name", f"host{index}"]))
            server, port, tokens = serve(cluster, folder, students, scheduler)
            expected = int(name.split("=")[1]) if scheduler else len(usable)
            run.slots = wait_slots(port, tokens["staff"], expected)
            warm_up(port, tokens["staff"], run.slots)
            load_before = os.getloadavg()[0]
            asyncio.run(rush(run, server.pid, port, tokens, uploads, args))
            run.load = (load_before, os.getloadavg()[0])
        finally:
            cluster.stop()
            hosts.remove()
        run.rows = read_jobs(folder)
    return run


def wait_port_at(host: str, port: int, process) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        if process.poll() is not None:
            sys.exit("the scheduler exited")
        time.sleep(0.2)
    sys.exit("the scheduler did not listen")


def ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction) * 1000:.0f}" if values else "-"


def secs(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction):.1f}" if values else "-"


def report(run: Run, args) -> dict:
    """Print one run's figures and guarantees; its p95s for the comparison of runs."""
    posted = run.posted
    graded = [p for p in posted if p.job and run.rows.get(p.job, {}).get("status") == "graded"]
    first_order = {}
    for p in sorted(graded, key=lambda p: p.upload.order):
        first_order.setdefault(p.upload.student, p.upload.order)
    firsts = [p for p in graded if first_order[p.upload.student] == p.upload.order]
    feedback = {id(p): run.rows[p.job]["finished_at"] - p.sent_wall for p in graded}
    start_wall = min((p.sent_wall for p in posted), default=0.0)
    jobs = [Job(p.upload.student, p.sent_wall - start_wall, run.rows[p.job]["grading_s"]) for p in graded]
    ideal = dict(zip(map(id, graded), times_to_feedback(jobs, run.slots))) if graded else {}
    acks = [p.latency_s for p in posted if p.latency_s is not None]
    statuses = Counter(p.status for p in posted)
    real_first = [feedback[id(p)] for p in firsts]
    ideal_first = [ideal[id(p)] for p in firsts]
    print(f"\n== {run.name}: {run.slots} grading slot(s); rush {run.rush_s:.0f} s; load average "
          f"{run.load[0]:.1f} before, {run.load[1]:.1f} after{'; TIMED OUT' if run.timed_out else ''}")
    print(f"acknowledgement ({len(acks)} POSTs, answers {dict(sorted(statuses.items(), key=str))}): "
          f"p50 {ms(acks, .5)} ms, p95 {ms(acks, .95)} ms, p99 {ms(acks, .99)} ms, max {ms(acks, 1)} ms")
    print(f"time to feedback, all {len(graded)} graded: p50 {secs(list(feedback.values()), .5)} s, "
          f"p95 {secs(list(feedback.values()), .95)} s; first graded upload of each of {len(firsts)} students: "
          f"p50 {secs(real_first, .5)} s, p95 {secs(real_first, .95)} s")
    ratio = percentile(real_first, .95) / percentile(ideal_first, .95) if firsts else float("nan")
    print(f"ideal fair queue, same arrivals and grading times, {run.slots} slot(s): all p95 "
          f"{secs(list(ideal.values()), .95)} s, first uploads p95 {secs(ideal_first, .95)} s; "
          f"real/ideal first-upload p95 {ratio:.2f}x (target <= 1.25x); grading time median "
          f"{statistics.median(j.grading_s for j in jobs) if jobs else 0:.2f} s, "
          f"{throughput(run, graded, start_wall):.0f} gradings a minute")
    streams = run.streams
    idle_cpu = streams.get("idle_cpu_share", 0) * run.rush_s
    print(f"largest queue depth {run.max_queue}; server CPU per upload {run.server_cpu_s / max(1, len(posted)) * 1000:.1f}"
          f" ms ({run.server_cpu_s:.2f} s for {len(posted)}); about "
          f"{max(0.0, run.server_cpu_s - idle_cpu) / max(1, len(posted)) * 1000:.1f} ms above the server's idle rate with "
          f"the streams open (an estimate: that rate, measured over 5 s, times the rush's length)"
          + ("; in-process, the server's process also runs the Dask scheduler and the slots' threads"
             if run.name == "in-process" else ""))
    print(f"{args.streams} live-board streams (answers {streams.get('statuses')}): server RSS "
          f"{streams.get('rss_before_kib', 0) / 1024:.0f} MiB before, {streams.get('rss_with_kib', 0) / 1024:.0f} MiB "
          f"with them, peak {streams.get('rss_peak_kib', 0) / 1024:.0f} MiB; server CPU at idle "
          f"{streams.get('idle_cpu_share_without', 0) * 100:.1f}% of a core without them, "
          f"{streams.get('idle_cpu_share', 0) * 100:.1f}% with them; events per stream median "
          f"{streams.get('events_median')} (min {streams.get('events_min')})")
    held, lines = guarantees(run)
    for line in lines:
        print(line)
    return {"slots": run.slots, "timed_out": run.timed_out, "answers": {str(k): v for k, v in statuses.items()},
            "ack_p95_s": percentile(acks, .95) if acks else None,
            "p95": percentile(list(feedback.values()), .95) if graded else None,
            "first_p95": percentile(real_first, .95) if firsts else None,
            "ideal_first_p95": percentile(ideal_first, .95) if firsts else None,
            "max_queue": run.max_queue, "server_cpu_per_upload_s": run.server_cpu_s / max(1, len(posted)),
            "streams": streams, "guarantees": held, "jobs": jobs,
            "graded": [{"student": p.upload.student, "order": p.upload.order, "sent_s": p.sent_wall - start_wall,
                        "ack_s": p.latency_s, "feedback_s": feedback[id(p)], "grading_s": run.rows[p.job]["grading_s"],
                        "ideal_feedback_s": ideal[id(p)]} for p in graded]}


def throughput(run: Run, graded: list[Posted], start_wall: float) -> float:
    """Gradings a minute from the first upload until the last grading is written."""
    if not graded:
        return 0.0
    return len(graded) / max(1e-9, max(run.rows[p.job]["finished_at"] for p in graded) - start_wall) * 60


def guarantees(run: Run) -> tuple[dict, list[str]]:
    """The counts of uploads that kept each guarantee, and the lines that say so (with each problem)."""
    lines, problems = [], []
    unanswered = [p for p in run.posted if p.status is None or p.status >= 500]
    problems += [f"upload {p.upload.student}-{p.upload.order}: {p.status} {p.body[:200]}" for p in unanswered]
    refused = [p for p in run.posted if p.upload.kind == "refused"]
    hammer = Counter(p.status for p in run.posted if p.upload.kind == "hammer")
    intruder = Counter(p.status for p in run.posted if p.upload.kind == "intruder")
    if set(intruder) - {401}:
        problems.append(f"uploads without a valid token: answers {dict(intruder)} (expected 401)")
    stored = len(run.rows) - run.slots  # the warm-up gradings aside
    if stored != sum(p.status == 202 for p in run.posted):
        problems.append(f"{stored} jobs stored for {sum(p.status == 202 for p in run.posted)} acknowledged uploads")
    if hammer and (hammer[202], hammer[429]) != (RATE_LIMIT, sum(hammer.values()) - RATE_LIMIT):
        problems.append(f"{sum(hammer.values())} uploads at once from one student, rate limit {RATE_LIMIT}: "
                        f"answers {dict(hammer)}")
    other = [p for p in run.posted if p.upload.kind not in ("refused", "intruder")
             and not (p.upload.kind == "hammer" and p.status == 429)]
    refused_ok = [p for p in refused if p.status == 422 or (p.job and run.rows[p.job]["status"] == "rejected")]
    problems += [f"loader refusal {p.upload.student}-{p.upload.order} ended {p.status} "
                 f"{run.rows[p.job]['status'] if p.job else p.body[:200]}" for p in refused if p not in refused_ok]
    acknowledged = [p for p in other if p.status == 202]
    once = [p for p in acknowledged if run.rows[p.job]["status"] == "graded" and run.rows[p.job]["attempts"] == 1
            and run.rows[p.job]["results"] == 1]
    problems += [f"upload {p.upload.student}-{p.upload.order} (job {p.job}): {run.rows[p.job]['status']}, "
                 f"attempts {run.rows[p.job]['attempts']}, results {run.rows[p.job]['results']}: "
                 f"{(run.rows[p.job]['message'] or '')[:200]}" for p in acknowledged if p not in once]
    problems += [f"upload {p.upload.student}-{p.upload.order}: {p.status} {p.body[:200]}"
                 for p in other if p.status != 202 and p not in unanswered]
    visible = [p.visible_s for p in refused if p.visible_s is not None]
    lines.append(f"guarantees: {len(run.posted) - len(unanswered)} of {len(run.posted)} uploads answered "
                 f"(202 or a 4xx refusal); {len(once)} of {len(acknowledged)} acknowledged gradable uploads graded "
                 f"exactly once; {len(refused_ok)} of {len(refused)} loader refusals ended rejected or 422 "
                 f"({sum(p.status == 422 for p in refused)} with 422 before storing)"
                 + (f"; rejected visible median {statistics.median(visible):.2f} s after its 202" if visible else "")
                 + (f"; {sum(hammer.values())} at once from one student: {hammer[202]} acknowledged, {hammer[429]} "
                    f"refused 429 (rate limit {RATE_LIMIT})" if hammer else "")
                 + (f"; {sum(intruder.values())} without a valid token: {dict(intruder)}, {stored} jobs stored "
                    f"for {sum(p.status == 202 for p in run.posted)} acknowledged" if intruder else "")
                 + (f"; stream {STREAMS_PER_ADDRESS + 1} from one address: {run.streams[CAP_PROBE]}"
                    if CAP_PROBE in run.streams else ""))
    lines += [f"  PROBLEM {problem}" for problem in problems[:20]]
    held = {"uploads": len(run.posted), "answered": len(run.posted) - len(unanswered),
            "acknowledged_gradable": len(acknowledged), "hammer": {str(k): v for k, v in hammer.items()},
            "graded_once": len(once), "loader_refusals": len(refused), "intruder": {str(k): v for k, v in intruder.items()},
            "refusals_kept": len(refused_ok), "problems": problems}
    return held, lines


def hammer_uploads(count: int) -> list[Upload]:
    """``count`` distinct correct files from one student, all two thirds into the rush, and
    two uploads beside them with no valid token."""
    return [Upload("hammer", order, WINDOW_S * 2 / 3, "hammer", "layers.py",
                   WARM_UP.read_bytes() + f"\n# rush upload hammer-{order}\n".encode()) for order in range(1, count + 1)
            ] + [Upload("intruder", order, WINDOW_S * 2 / 3, "intruder", "layers.py", b"x = 1\n" * 1000)
                 for order in (1, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--compress", type=float, default=20.0, help="replay the 10 minutes this many times faster")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--streams", type=int, default=300, help="live-board streams held open through the rush")
    parser.add_argument("--runs", default="in-process,hosts=1,hosts=2")
    parser.add_argument("--hammer", type=int, default=8, help="uploads posted at once by one more student, "
                        "two thirds into the rush (the rate limit's race: exactly 5 acknowledged)")
    parser.add_argument("--json", type=Path, help="also write each run's figures here")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds after the deadline a run may take to drain its queue")
    args = parser.parse_args()
    runs = args.runs.split(",")
    if any(r != "in-process" and not re.fullmatch(r"hosts=[1-9]", r) for r in runs):
        sys.exit(f"--runs takes in-process and hosts=N (N 1-9), not {args.runs!r}")
    if any(r.startswith("hosts=") for r in runs) and os.geteuid() != 0:
        sys.exit("the hosts=N runs make network namespaces (ip netns), which needs root; --runs in-process runs without")
    if args.streams > STREAMS_PER_ADDRESS * 254:
        sys.exit(f"--streams: at most {STREAMS_PER_ADDRESS * 254}")
    uploads = rush_class(args.students, WINDOW_S, args.seed) + hammer_uploads(args.hammer)
    kinds = Counter(upload.kind for upload in uploads)
    mix = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
    print(f"class: {args.students} students, {len(uploads)} uploads ({mix}); "
          f"{sum(u.at_s >= WINDOW_S * 2 / 3 for u in uploads)} in the last third; 10 minutes replayed in "
          f"{WINDOW_S / args.compress:.0f} s (--compress {args.compress:g}); seed {args.seed}; course configuration "
          f"correctness only (speed timing takes a loop solution about 40 s)")
    figures = {name: report(run_once(name, uploads, args), args) for name in runs}
    jobs = {name: run.pop("jobs") for name, run in figures.items()}
    if args.json:
        args.json.write_text(json.dumps({"uploads": len(uploads), "kinds": dict(kinds), "runs": figures}, indent=1))
    one, two = figures.get("hosts=1"), figures.get("hosts=2")
    if one and two and one["p95"] and two["p95"]:
        print(f"\none host -> two hosts: time to feedback p95 {one['p95']:.1f} s -> {two['p95']:.1f} s, "
              f"{one['p95'] / two['p95']:.2f}x (target >= 1.6x); first uploads' p95 {one['first_p95']:.1f} s -> "
              f"{two['first_p95']:.1f} s, {one['first_p95'] / two['first_p95']:.2f}x")
        # What a second host would give if its gradings took what they took on one host: on a
        # machine whose cores are busy with other work, two hosts here each grade slower.
        alone = jobs["hosts=1"]
        ideal = [percentile(times_to_feedback(alone, slots), .95) for slots in (1, 2)]
        print(f"ideal fair queue over the one-host run's arrivals and grading times: p95 {ideal[0]:.1f} s with one "
              f"slot, {ideal[1]:.1f} s with two, {ideal[0] / ideal[1]:.2f}x (the second slot alone, without contention)")


if __name__ == "__main__":
    main()
