"""Where gradings run: a Dask cluster of grading slots, one pinned core each.

    executor = Executor.local(cores, sandbox_name)    an in-process cluster on this host
    executor = Executor.remote("tcp://host:8786")     a real scheduler and its workers
    future = executor.submit(task)                    a GradingTask: the submission's bytes travel with it
    for future, outcome in executor.completed(futures): ...   TaskDone | TaskFailed
    executor.stop(futures)                            kill this client's running gradings
    executor.close()

A **slot** is one core of a worker host. Every Dask worker that grades is single-threaded,
owns one slot (the worker resource ``slot=1``) and pins each grading to its core, so a
timing never shares a core with another grading. Every grading task asks for that
resource: an untagged task would run anywhere (distributed #3552).

Why Dask: the same API runs in-process (no server to start) and across hosts; worker
resources account for slots; the scheduler reruns the tasks of a worker that died; and
it is pure Python. Used: dask/distributed 2026.8.

Whose fault: a task that raised, or whose worker died more often than the scheduler
allows (KilledWorker), or a result the grader marked not gradable, is the grader's
fault; the batch retries it a bounded number of times (``MAX_ATTEMPTS``).

The scheduler going away (restarted, unreachable) raises ``SchedulerLost`` from
``completed``; the caller says so and may ``reconnect`` and resubmit what is unfinished.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import secrets
import signal
import socket
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import grader
from grader.grading.config import GradingConfig
from grader.errors import GraderError, SubmissionError, UsageError
from grader.grading.grade import grade_submission, grader_failure_result
from grader.sandbox import get_sandbox
from grader.sandbox.placement import NO_QUIET_WAIT, Placement

SLOT_RESOURCE = "slot"
SLOT_PLUGIN = "convgrade-slot"
# Attempts per student before a grader fault is recorded as not gradable.
MAX_ATTEMPTS = 3
# How long the client waits for a lost scheduler to come back before giving up.
RECONNECT_TIMEOUT_S = 120.0
# A submission travels inside its task; past this it is refused rather than flood the scheduler.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024

_DASK_SETTINGS = {
    "distributed.worker.memory.target": False,  # the gradings' memory is the sandbox's, not the worker's
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
    "distributed.worker.memory.terminate": False,
    "distributed.scheduler.work-stealing": True,
    "distributed.admin.tick.limit": "30s",  # a busy 2-core host must not fill the log with tick warnings
    "distributed.comm.timeouts.connect": "10s",
}


class SchedulerLost(GraderError):
    """The connection to the scheduler broke; the gradings in flight have no answer."""


# ------------------------------------------------------------------------ the task


@dataclass(frozen=True)
class GradingTask:
    """One grading, self-contained: a worker on any host can run it from this alone."""

    student_id: str
    name: str
    """The entry's name in the class folder (file or folder name): id and kind follow from it."""
    payload: bytes
    """A tar of the entry (a folder keeps its tree and its symlinks as they are)."""
    config_json: str
    seed: int
    seed_derivation: str
    """How the client chose the seed (grader.grading.seeds): the course secret stays on the client."""
    batch: str
    """This client's batch token: stopping kills only its own gradings."""
    attempt: int = 1
    placement: Placement = NO_QUIET_WAIT
    """What to hide and the timing lock, as paths of the client's host (the worker keeps
    those that exist on its own), and how long timing may wait for quiet; the worker fills
    in its slot's core and index."""


def task_for(student_id: str, path: Path, config: GradingConfig, seed: int, batch: str, *,
         seed_derivation: str = "given", attempt: int = 1, placement: Placement = NO_QUIET_WAIT) -> GradingTask:
    """The task for grading ``path``; its bytes are read here, on the client."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        # The entry itself is followed (as a local grading would); symlinks inside a folder stay links.
        archive.add(Path(path).resolve() if Path(path).is_symlink() else path, arcname=Path(path).name,
                    filter=_plain_members)
    payload = buffer.getvalue()
    if len(payload) > MAX_PAYLOAD_BYTES:  # the loader refuses far less (20 MiB): the student's to fix
        raise SubmissionError(f"{path.name} is {len(payload) // 2**20} MiB, over the "
                              f"{MAX_PAYLOAD_BYTES // 2**20} MiB a grading task may carry",
                              "submit only your code (leave datasets and checkpoints out)")
    return GradingTask(student_id=student_id, name=Path(path).name, payload=payload,
                       config_json=config.model_dump_json(), seed=seed, seed_derivation=seed_derivation,
                       batch=batch, attempt=attempt, placement=placement)


def _on_this_host(placement: Placement, slot: Slot) -> Placement:
    """The task's placement on this worker: its slot's core and index, and the client's
    hidden paths and timing lock where they exist here."""
    lock = placement.timing_lock
    return replace(placement, cpu=slot.core, slot=slot.index,
                   hide_paths=tuple(Path(p) for p in placement.hide_paths if os.path.exists(p)),
                   timing_lock=Path(lock) if lock and os.path.isdir(lock) else None)


def _plain_members(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Files, folders and symlinks only, as the loader would see them: a FIFO or a device
    in a student's folder is left out (the loader skips it too), and so is a second hard
    link to a file already packed (rare; the first name keeps the content)."""
    return member if member.isfile() or member.isdir() or member.issym() else None


def unpack(task: GradingTask, folder: Path) -> Path:
    """The task's entry, extracted into ``folder``. No member may land outside it (absolute
    or ``..`` names); links are kept as they were, as a local grading would see them."""
    with tarfile.open(fileobj=io.BytesIO(task.payload), mode="r") as archive:
        members = archive.getmembers()
        for member in members:
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not parts or parts[0] != task.name:
                raise GraderError(f"the task's archive has a member outside its entry: {member.name!r}")
            if not (member.isfile() or member.isdir() or member.issym()):
                raise GraderError(f"the task's archive has a special file: {member.name!r}")
        # Python < 3.11.4 has no extraction filters; the checks above do their job here.
        archive.extractall(folder, members=members)
    return folder / task.name


# ------------------------------------------------------------ cores and hidden paths


def choose_cores(jobs: int | None) -> tuple[list[int], list[str]]:
    """The cores the worker slots are pinned to, one each: the last ``jobs`` usable ones."""
    usable = sorted(os.sched_getaffinity(0))
    notes = []
    if jobs is None:
        jobs = len(usable)
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, got {jobs}")
    if jobs > len(usable):
        notes.append(f"--jobs {jobs} lowered to {len(usable)}, the usable cores: two gradings never share a core")
        jobs = len(usable)
    return usable[-jobs:], notes


def hideable(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The paths the student must not see, except any that hold what the sandbox itself runs."""
    needed = [Path(os.path.realpath(p)) for p in (sys.executable, sys.prefix, sys.base_prefix,
                                                   os.path.dirname(grader.__file__), tempfile.gettempdir())]
    kept = []
    for path in paths:
        resolved = path.resolve()
        if not any(n == resolved or resolved in n.parents for n in needed):
            kept.append(resolved)
    return tuple(kept)


# ------------------------------------------------------------------- the worker side


@dataclass
class Slot:
    """One core of a worker host, with the sandbox its gradings use."""

    index: int
    core: int
    sandbox_name: str
    sandbox: object = None
    running: str | None = None
    """The batch token of the grading running now, if any."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.sandbox = get_sandbox(self.sandbox_name)

    def kill(self) -> None:
        """End the grading running in this slot (its harness or its container)."""
        self.sandbox.cancel()


def _slot_plugin(slot: Slot):
    """A Dask WorkerPlugin that attaches ``slot`` to its worker (``Worker(plugins={...})``)."""
    from distributed import WorkerPlugin

    class SlotPlugin(WorkerPlugin):
        name = SLOT_PLUGIN

        def __init__(self, slot: Slot):
            self.slot = slot

    return SlotPlugin(slot)


HOST = socket.gethostname()


def _current_slot() -> Slot:
    from distributed import get_worker

    plugin = get_worker().plugins.get(SLOT_PLUGIN)
    if plugin is None:
        raise GraderError("this Dask worker has no grading slot: start it with `convgrade worker`")
    return plugin.slot


def grade_task(task: GradingTask) -> str:
    """Run on a worker: grade the task's submission on this slot's core; the result as JSON.

    Grader errors become a not-gradable result (the client retries those); only a
    failure to even start (no slot) raises."""
    slot = _current_slot()
    config = GradingConfig.model_validate_json(task.config_json)
    with slot.lock:  # one grading per slot, whatever the worker's thread count
        slot.running = task.batch
        try:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {slot.core})  # this thread; the sandbox pins the harness too
            with tempfile.TemporaryDirectory(prefix="convgrade-task-") as folder:
                started = time.monotonic()
                path = Path(folder) / task.name
                try:
                    path = unpack(task, Path(folder))
                    result = grade_submission(path, slot.sandbox, config, seed=task.seed,
                                              placement=_on_this_host(task.placement, slot))
                except Exception as exc:  # a grader bug: recorded, never a zero
                    result = grader_failure_result(path, f"unexpected error on {HOST}: {type(exc).__name__}: {exc}",
                                                   config, task.seed, time.monotonic() - started)
                result = result.model_copy(update={"seed_derivation": task.seed_derivation})
                return result.model_dump_json(indent=2)
        finally:
            slot.running = None


def stop_batch(batch: str, dask_worker=None) -> int:
    """Run on every worker (``Client.run``): kill the gradings of ``batch`` still running
    here; the number still running."""
    plugin = dask_worker.plugins.get(SLOT_PLUGIN) if dask_worker is not None else None
    if plugin is None or plugin.slot.running != batch:
        return 0
    with contextlib.suppress(Exception):
        plugin.slot.kill()
    return 1


def slot_worker_specs(slots: list[Slot], *, host_name: str = HOST) -> dict[str, dict]:
    """Dask worker specs: one single-threaded worker per slot, owning it (resource slot=1)."""
    from distributed import Worker

    return {
        f"{host_name}/core{slot.core}": {"cls": Worker, "options": {
            "nthreads": 1, "resources": {SLOT_RESOURCE: 1}, "name": f"{host_name}/core{slot.core}",
            "plugins": {_slot_plugin(slot)}, "memory_limit": 0, "dashboard": False}}
        for slot in slots
    }


def serve_slots(address: str, cores: list[int], sandbox_name: str, log, *, name: str | None = None) -> None:
    """``convgrade worker``: one Dask worker per core of this host, joined to ``address``,
    until SIGINT or SIGTERM. The sandbox is made ready first (the docker image built or
    checked), so no grading waits on it. When the scheduler goes away, the gradings it can
    no longer receive are killed and the workers wait for it to come back."""
    import asyncio

    import dask

    slots = [Slot(index, core, sandbox_name) for index, core in enumerate(cores)]
    ready = slots[0].sandbox.prepare()
    if ready:
        log(ready)
    _quiet_dask_logs()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        stop_wait = asyncio.ensure_future(stopping.wait())
        while not stopping.is_set():
            specs = slot_worker_specs(slots, host_name=name or HOST)
            workers = [spec["cls"](address, **spec["options"]) for spec in specs.values()]
            started = asyncio.ensure_future(asyncio.gather(*workers))
            await asyncio.wait([started, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            if started.done() and started.exception() is None:
                log(f"{len(workers)} slot(s) on {HOST} (cores {', '.join(map(str, cores))}, {sandbox_name} sandbox) "
                    f"joined {address}")
                finished = asyncio.ensure_future(asyncio.gather(*(w.finished() for w in workers)))
                await asyncio.wait([finished, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            for slot in slots:  # nobody can receive what they would finish now
                with contextlib.suppress(Exception):
                    slot.kill()
            await asyncio.gather(*(w.close(timeout=10) for w in workers), return_exceptions=True)
            if stopping.is_set():
                for slot in slots:
                    with contextlib.suppress(Exception):
                        slot.sandbox.close()
            else:
                log(f"lost the scheduler at {address}; waiting for it to come back")
                await asyncio.wait([stop_wait], timeout=1.0)
        log("worker stopped")

    with dask.config.set(_DASK_SETTINGS):
        asyncio.run(serve())


# ------------------------------------------------------------------- the client side


@dataclass(frozen=True)
class TaskDone:
    result_json: str


@dataclass(frozen=True)
class TaskFailed:
    """The task raised or its workers kept dying: the grader's fault."""

    message: str


class Executor:
    """A Dask client for gradings; the batch (and the service) submit through it."""

    def __init__(self, client, *, cluster=None, address: str = "in-process", slots: list[Slot] = ()):
        self.client = client
        self.cluster = cluster
        self.local_slots = list(slots)
        """The slots of an in-process cluster: their sandboxes are closed with it."""
        self.address = address
        self.batch = secrets.token_hex(8)
        self._pending = None  # distributed.as_completed of what was submitted and not yet yielded
        self._serial = itertools.count(1)  # task keys stay unique across retries and resubmissions

    @classmethod
    def local(cls, cores: list[int], sandbox_name: str) -> "Executor":
        """An in-process cluster: a scheduler and one worker per core, no server, no port."""
        import dask
        from distributed import Client, Scheduler, SpecCluster

        _quiet_dask_logs()
        slots = [Slot(index, core, sandbox_name) for index, core in enumerate(cores)]
        with dask.config.set(_DASK_SETTINGS):
            cluster = SpecCluster(
                scheduler={"cls": Scheduler, "options": {
                    # Its HTTP server (health checks) always starts: on loopback, any free port.
                    "dashboard": False, "dashboard_address": "127.0.0.1:0", "protocol": "inproc://"}},
                workers=slot_worker_specs(slots),
                silence_logs=logging.WARNING)
            client = Client(cluster, set_as_default=False)
        return cls(client, cluster=cluster, slots=slots)

    @classmethod
    def remote(cls, address: str, *, timeout_s: float = 10.0) -> "Executor":
        import dask
        from distributed import Client

        _quiet_dask_logs()
        try:
            with dask.config.set(_DASK_SETTINGS):
                client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SchedulerLost(f"cannot reach the scheduler at {address}: {exc}") from exc
        return cls(client, address=address)

    def slots(self) -> int:
        """Slots the cluster offers now (0 while no worker is connected)."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {}) if self.client.status == "running" \
            else {}
        return int(sum(w.get("resources", {}).get(SLOT_RESOURCE, 0) for w in workers.values()))

    def submit(self, task: GradingTask, run=None, name: str | None = None):
        """Queue one grading; it holds one slot (an untagged task would run anywhere).
        ``run`` and ``name``: another slot task of the batch (the finals' rounds), run on
        a worker as ``run(task)``, whose answer is a string like a grading's."""
        from distributed import as_completed

        key = f"convgrade-{task.batch}-{name or task.student_id}-{next(self._serial)}"
        future = self.client.submit(run or grade_task, task, key=key, resources={SLOT_RESOURCE: 1}, pure=False)
        if self._pending is None:
            self._pending = as_completed(loop=self.client.loop)
        self._pending.add(future)
        return future

    def completed(self) -> Iterator[tuple[object, TaskDone | TaskFailed]]:
        """Each submitted future as it finishes (submitting more while iterating adds them),
        with its outcome; SchedulerLost when the connection breaks (the rest is then dropped)."""
        pending = self._pending
        if pending is None:
            return
        for future in pending:
            if future.status == "finished":
                try:
                    yield future, TaskDone(future.result())
                    continue
                except Exception as exc:  # lost between the status and the fetch
                    if self.client.status != "running":
                        self._pending = None
                        raise SchedulerLost(self._lost_message()) from exc
                    yield future, TaskFailed(f"{type(exc).__name__}: {exc}")
                    continue
            if future.status == "error":
                exc = future.exception()
                yield future, TaskFailed(_failure_message(exc))
                continue
            # cancelled or lost: by us (stopping) or with the scheduler
            if self.client.status != "running" or not self._scheduler_alive():
                self._pending = None
                raise SchedulerLost(self._lost_message())
            yield future, TaskFailed(f"the grading task was {future.status} by the scheduler")

    def _scheduler_alive(self) -> bool:
        try:
            self.client.scheduler_info(n_workers=0)
            return True
        except Exception:
            return False

    def _lost_message(self) -> str:
        return f"lost the connection to the scheduler at {self.address}"

    def reconnect(self, timeout_s: float = RECONNECT_TIMEOUT_S) -> bool:
        """Wait until the scheduler answers again and has a worker slot; False on timeout.
        (The Dask client retries for a while by itself, then closes: then a new one is made.)"""
        from distributed import Client

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.client.status in ("closed", "closing", "failed") and self.cluster is None:
                with contextlib.suppress(Exception):
                    self.client.close(timeout=5)
                with contextlib.suppress(Exception):
                    self.client = Client(self.address, timeout="5s", set_as_default=False)
            if self.client.status == "running" and self._scheduler_alive():
                with contextlib.suppress(Exception):
                    if self.slots() > 0:
                        return True
            time.sleep(1.0)
        return False

    def stop(self, futures: Iterable, deadline_s: float = 60.0, log=None) -> None:
        """Cancel what has not started and kill this batch's running gradings, until none runs."""
        futures = list(futures)
        with contextlib.suppress(Exception):
            self.client.cancel(futures, force=True)
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            try:
                running = _ints(self.client.run(stop_batch, self.batch, on_error="return"))
            except KeyboardInterrupt:
                continue  # another Ctrl-C: we are already stopping
            except Exception as exc:  # the scheduler is gone: its workers' gradings are not ours to reach
                if log:
                    log(f"could not reach the workers to stop their gradings: {type(exc).__name__}: {exc}")
                return
            if running == 0:
                return
            time.sleep(0.2)
        if log:
            log(f"gave up waiting for running gradings after {deadline_s:g} s")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)
        for slot in self.local_slots:
            with contextlib.suppress(Exception):
                slot.sandbox.close()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ints(replies: dict) -> int:
    return sum(value for value in replies.values() if isinstance(value, int))


def _failure_message(exc: BaseException | None) -> str:
    name = type(exc).__name__ if exc is not None else "unknown error"
    if name == "KilledWorker":
        return "the workers grading it died repeatedly (KilledWorker)"
    return f"{name}: {exc}"


def _quiet_dask_logs() -> None:
    # Dask logs every lost connection at WARNING/ERROR; the batch reports what matters itself.
    for name in ("distributed", "distributed.scheduler", "distributed.worker", "distributed.core",
                 "distributed.comm", "distributed.client", "distributed.nanny", "distributed.batched"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
