"""What a dead server left running: found and killed when the next one starts on its DATA.

A server's helper processes (the upload-checking processes, the harnesses of the process
sandbox) are set to die with it (PR_SET_PDEATHSIG), but that is Linux's and per thread,
and a harness in its own session outlives a ``kill -9`` of the server's process group. So
each server marks its run: a random marker in the environment its helpers inherit
(``RUN_MARKER``; the process sandbox passes it to the harness), recorded with the server's
pid and start time in DATA/server.json. At the next start, when that server is no longer
running, every process still carrying its marker is killed.

Reading the processes is bounded: one pass over /proc, at most ENVIRON_CAP bytes of each
environment (ours put the marker near the end, so the tail is read), only processes this
user may read. Where /proc is missing, nothing is swept.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
from pathlib import Path
from typing import Callable

RUN_MARKER = "CONVGRADE_SERVICE_RUN"
RECORD = "server.json"
ENVIRON_CAP = 1 << 20


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22); None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[19])  # after the command name, which may hold spaces


def marked_processes(marker: str) -> list[int]:
    """Pids (not ours) whose environment holds ``RUN_MARKER=marker``."""
    wanted = f"{RUN_MARKER}={marker}".encode()
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as stream:
                    environ = stream.read(ENVIRON_CAP)
            except OSError:  # gone, or another user's
                continue
            if wanted in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def sweep_and_mark(data_dir: Path, log: Callable[[str], None]) -> str:
    """Kill what a dead earlier server of ``data_dir`` left, then mark this server's run
    (its environment and DATA/server.json); the marker."""
    record = Path(data_dir) / RECORD
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        earlier = json.loads(record.read_bytes()[:4096])
        pid, started, marker = int(earlier["pid"]), int(earlier["started"]), str(earlier["marker"])
        if pid != os.getpid() and start_time(pid) != started:  # that server is gone
            leftovers = marked_processes(marker)
            for leftover in leftovers:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(leftover, signal.SIGKILL)
            if leftovers:
                log(f"killed {len(leftovers)} process(es) an earlier server left running")
    marker = secrets.token_hex(12)
    os.environ[RUN_MARKER] = marker  # before any helper starts: they inherit it
    temp = record.with_suffix(".tmp")
    temp.write_text(json.dumps({"pid": os.getpid(), "started": start_time(os.getpid()), "marker": marker}))
    os.replace(temp, record)
    return marker
