"""The docker backend: the same harness as the process backend, in one fresh, hardened
container per submission.

    DockerSandbox.run(job)
      image        ensure_image() once per instance (lazily): the content-hashed tag,
                   so the container always runs the CURRENT harness
      create       convgrade-<random>, labels convgrade=1 + convgrade.run=<id>;
                   the job in env CONVGRADE_JOB (the harness pops it; /proc/1/environ
                   and the harness's environ are unreadable to the workers' uids);
                   the staged submission bind-mounted read-only at /submission
      start, wait  with the job's wall-clock deadline; past it: kill, SandboxTimeout
      logs         the harness's stdout only, size-capped, parsed by parse_report;
                   stderr (capped) kept as diagnostics
      remove       force, in a ``finally``, whatever happened

The container is the boundary: no network, read-only root, size-capped tmpfs scratch,
no /dev/shm to speak of, only the capabilities the harness uses, no new privileges,
bounded tasks, memory, files and one core. Inside it the harness applies the same
per-worker locks as in the process backend (private uid pair, one task, RLIMIT_AS, ...).
The uids are picked by ``private_uid_pair`` because without user namespaces uids are
host-global: RLIMIT_NPROC counts a uid's tasks across every container on the host.

Leftovers (a killed grader, an engine hiccup during remove) are swept by label:
``sweep_containers`` / ``convgrade clean-containers`` / ``make clean-containers``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import threading
import time
from typing import Any

from grader.errors import GraderError, HarnessProtocolError, SandboxCancelled, SandboxTimeout, SandboxUnavailable
from grader.sandbox.base import MAX_REPORT_BYTES, SandboxJob, SandboxRun, parse_report, private_uid_pair
from grader.sandbox.process import harness_environment

MiB = 1 << 20
LABEL = "convgrade"
RUN_LABEL = "convgrade.run"
TIMING_LOCK_MOUNT = "/run/convgrade-timing"
SUBMISSION_MOUNT = "/submission"
HARNESS_COMMAND = ["python3", "-s", "-m", "grader.harness"]

# Capabilities the harness (root in the container) needs, and nothing else:
CAPABILITIES = (
    "SETUID",  # setuid() to the worker's private uid (lockdown.WorkerLimits.preexec)
    "SETGID",  # setgroups([]) and setgid() to the worker's private gid (same place)
    "KILL",  # killpg() a worker that runs under another uid (timeouts, stop())
    "CHOWN",  # chown the workers' scratch homes to their uids (run._chown_tree)
    # subprocess chdir()s into the worker's home (0700, already owned by the worker's
    # uid) BEFORE preexec switches uid, so root must search directories it does not
    # own; it also lets root read a staged submission not owned by uid 0 (a grader
    # run by a non-root member of the docker group). Read/search only, no write.
    "DAC_READ_SEARCH",
    # process_vm_readv of a worker's outputs (harness.worker_replies.read_process_memory): the
    # workers run under other uids and are not dumpable, so reading their memory needs
    # it. Workers never hold it (setuid to a non-root uid clears every capability, and
    # no-new-privileges keeps it from coming back).
    "SYS_PTRACE",
)

# Processes and threads in the whole container: docker-init, the harness, two workers
# of one task each (RLIMIT_NPROC=1 per private uid), a worker restarting; the rest is
# slack. A fork bomb stops at RLIMIT_NPROC already; this is the second wall.
PIDS_LIMIT = 64
# The harness (python + numpy + the expected answers of a case, ~80 MiB) and the
# reference worker (~150 MiB at the speed cell), with room to spare.
HARNESS_AND_REFERENCE_BYTES = 768 * MiB
# Docker's json-file log for stdout + stderr: above the report cap, far below a disk.
LOG_MAX_SIZE = "16m"
STDERR_KEEP = 4000
# /dev/shm: covered by a tiny root-owned tmpfs; nobody here uses it (the arena is a memfd).
DEV_SHM = "rw,nosuid,nodev,noexec,size=65536,mode=0755"


def container_memory_bytes(harness_config: dict[str, Any]) -> int:
    """The container's memory (and memory+swap) limit, from the grading's job.

    - the student worker: at most its RLIMIT_AS, i.e. ``memory_bytes`` + the arena +
      ``address_space_overhead_bytes`` (the job's ``worker_address_space_bytes``, which
      the host computed from the assignment's pack), so its
      own limit (a MemoryError, reported as "memory limit of ... exceeded") comes first;
    - ``scratch_bytes``: tmpfs pages in /tmp are charged to the container's cgroup;
    - the harness and the reference worker: ``HARNESS_AND_REFERENCE_BYTES``.

    If the sum is reached anyway (the student touches pages slowly under RLIMIT_AS but
    the others grew), the OOM killer takes a worker (oom_score_adj 1000), never the harness.
    """
    limits = harness_config["limits"]
    return harness_config["worker_address_space_bytes"] + limits["scratch_bytes"] + HARNESS_AND_REFERENCE_BYTES


def _quiet_log(message: str) -> None:
    """Image building talks on stderr only, and not at all when there is nothing to build."""
    if not message.endswith("is up to date"):
        print(message, file=sys.stderr, flush=True)


def _engine_errors() -> tuple[type[BaseException], ...]:
    import docker.errors
    import requests.exceptions

    return (docker.errors.DockerException, requests.exceptions.RequestException, ConnectionError)


class DockerSandbox:
    """The docker backend: one fresh, hardened container per grading (``container_config``),
    the harness its only process tree; the image is built or found once (``ready``), runs
    can be cancelled from another thread, and every container is removed in a ``finally``."""

    name = "docker"

    def __init__(self, client: Any | None = None, image: str | None = None):
        """``client``: a docker SDK client (default: from the environment, DOCKER_HOST
        included); ``image``: a tag to use as is (default: ``ensure_image()``)."""
        self._client = client
        self._owns_client = client is None
        self._image = image
        self._image_given = image is not None
        self._images: dict[tuple[str, ...], str] = {}
        """Images built for a configuration's `packages` (what students may import besides numpy)."""
        self._lock = threading.Lock()
        self._running: set[str] = set()
        """The run ids in progress: what ``cancel`` removes."""
        self._cancelled: set[str] = set()
        self.last_run_id = ""
        """The run id (label convgrade.run, name convgrade-<id>) of the latest run."""
        self.last_phases: dict[str, float] = {}
        """Seconds per phase of the latest run (image, create, start, harness, logs, remove),
        for benchmarks; with concurrent runs, whichever finished last."""

    # -- the engine and the image -------------------------------------------------------

    def ready(self, packages: tuple[str, ...] = ()) -> tuple[Any, str, float]:
        """(client, image tag, seconds this call took): the engine is reached and the image
        ensured once per instance (again after a failure); later calls return at once.
        ``packages``: the configuration's, which the image must install (image.ensure_image:
        one image per package set; an image given to the constructor is used as it is)."""
        with self._lock:
            started = time.monotonic()
            if self._client is None:
                from grader.sandbox.image import docker_client

                self._client = docker_client()
            packages = () if self._image_given else tuple(packages)
            if (self._image if not packages else self._images.get(packages)) is None:
                from grader.sandbox.image import ensure_image

                try:
                    tag = ensure_image(client=self._client, packages=packages, log=_quiet_log)
                except GraderError:
                    raise
                except Exception as exc:  # engine errors, a broken build context
                    raise SandboxUnavailable(f"docker: the sandbox image cannot be built: {exc}") from exc
                if packages:
                    self._images[packages] = tag
                else:
                    self._image = tag
            return self._client, self._images[packages] if packages else self._image, time.monotonic() - started

    def prepare(self) -> str | None:
        _, image, _ = self.ready()
        return f"sandbox image {image} is ready"

    def cancel(self) -> None:
        """Remove the containers of the runs in progress (by their run label); each run's
        wait then ends and it raises SandboxCancelled."""
        with self._lock:
            run_ids = set(self._running)
            self._cancelled |= run_ids
            client = self._client
        for run_id in run_ids:
            sweep_containers(client, run_id=run_id)

    def close(self) -> None:
        self.cancel()
        with self._lock:
            client, self._client = (self._client, None) if self._owns_client else (None, self._client)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    # -- one grading ------------------------------------------------------------------------

    def container_config(self, job: SandboxJob, image: str, run_id: str) -> dict[str, Any]:
        """Keyword arguments for ``client.containers.create``: the whole hardening, in one place."""
        import docker.types

        limits = job.harness_config["limits"]
        cpu = job.placement.cpu if job.placement.cpu is not None else max(os.sched_getaffinity(0))
        config = {
            **job.harness_config,
            "submission_root": SUBMISSION_MOUNT,
            "entry": job.entry,
            "cpu": None,  # the cpuset pins the container; the harness takes its one core
            "uid_base": private_uid_pair(job.placement.slot),  # uids are host-global without a user namespace
            "isolate_namespaces": False,  # the container is the namespace
            "timing_lock": TIMING_LOCK_MOUNT if job.placement.timing_lock else None,
        }
        memory = container_memory_bytes(job.harness_config)
        ulimits = [
            docker.types.Ulimit(name="core", soft=0, hard=0),
            # No file in scratch can outgrow the tmpfs anyway; workers lower it further.
            docker.types.Ulimit(name="fsize", soft=limits["scratch_bytes"], hard=limits["scratch_bytes"]),
            # The harness's pipes, arenas and selectors; workers lower it to limits.open_files.
            docker.types.Ulimit(name="nofile", soft=max(1024, limits["open_files"]),
                                hard=max(1024, limits["open_files"])),
        ]
        return dict(
            image=image,
            command=HARNESS_COMMAND,
            name=f"convgrade-{run_id}",
            labels={LABEL: "1", RUN_LABEL: run_id, "convgrade.slot": str(job.placement.slot)},
            environment={**harness_environment(), "CONVGRADE_JOB": json.dumps(config)},
            mounts=[docker.types.Mount(target=SUBMISSION_MOUNT, source=str(job.submission_root.resolve()),
                                       type="bind", read_only=True)]
            # The batch's timing lock folder (the host's, 0700: the worker's uid cannot enter it).
            + ([docker.types.Mount(target=TIMING_LOCK_MOUNT, source=str(job.placement.timing_lock.resolve()),
                                   type="bind")]
               if job.placement.timing_lock else []),
            detach=True,
            init=True,  # docker-init as pid 1: reaps, forwards signals
            network_mode="none",
            read_only=True,
            # The harness's scratch (tempfile's default dir); noexec: we run scripts with python.
            tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={limits['scratch_bytes']},mode=1777",
                   "/dev/shm": DEV_SHM},
            ipc_mode="private",
            cap_drop=["ALL"],
            cap_add=list(CAPABILITIES),
            security_opt=["no-new-privileges"],
            pids_limit=PIDS_LIMIT,
            mem_limit=memory,
            memswap_limit=memory,  # no swap: the limit is the limit
            cpuset_cpus=str(cpu),
            ulimits=ulimits,
            log_config=docker.types.LogConfig(type="json-file", config={"max-size": LOG_MAX_SIZE, "max-file": "1"}),
        )

    def run(self, job: SandboxJob) -> SandboxRun:
        """Create, start, wait for and read one container, then remove it. Over 60 lines on
        purpose: each phase is timed (``last_phases``) inside the one try/finally that
        always removes the container, and splitting it would split that guarantee."""
        client, image, image_s = self.ready(tuple(job.harness_config.get("packages") or ()))
        engine_errors = _engine_errors()
        run_id = secrets.token_hex(6)
        self.last_run_id = run_id
        with self._lock:
            self._running.add(run_id)
        phases: dict[str, float] = {"image": image_s}
        started = time.monotonic()
        deadline = started + job.deadline_s
        container = None
        try:
            mark = time.monotonic()
            try:
                container = client.containers.create(**self.container_config(job, image, run_id))
                phases["create"] = time.monotonic() - mark
                mark = time.monotonic()
                container.start()
                phases["start"] = time.monotonic() - mark
            except engine_errors as exc:
                raise SandboxUnavailable(f"docker: cannot start the sandbox container: {exc}") from exc
            mark = time.monotonic()
            exit_code = self._wait(container, deadline, job.deadline_s)
            phases["harness"] = time.monotonic() - mark
            mark = time.monotonic()
            try:
                stdout = _read_logs(container, stdout=True, cap=MAX_REPORT_BYTES + 1)
                stderr = _read_logs(container, stdout=False, cap=1 << 20)
                container.reload()
                state = container.attrs.get("State", {})
                oom_killed = bool(state.get("OOMKilled"))
            except engine_errors as exc:
                raise SandboxUnavailable(f"docker: cannot read the sandbox's output: {exc}") from exc
            phases["logs"] = time.monotonic() - mark
            wall = time.monotonic() - started
            lifetime = _lifetime(state)
            if lifetime is not None:
                phases["container_lifetime"] = lifetime
        finally:
            if container is not None:
                mark = time.monotonic()
                _remove(container)
                phases["remove"] = time.monotonic() - mark
            self.last_phases = phases
            with self._lock:
                self._running.discard(run_id)
                cancelled = run_id in self._cancelled
                self._cancelled.discard(run_id)
            if cancelled:
                raise SandboxCancelled("docker: the run was cancelled")

        diagnostics = stderr.decode("utf-8", errors="replace")[-STDERR_KEEP:]
        status = f"exit code {exit_code}" + (", OOMKilled (a process in the container hit the memory limit)"
                                             if oom_killed else "")
        try:
            report = parse_report(stdout, backend=self.name)
        except HarnessProtocolError as exc:
            raise HarnessProtocolError(f"{exc} (container {status}); stderr: {diagnostics}") from exc
        if "harness_error" in report:
            raise HarnessProtocolError(f"docker: harness failed: {report['harness_error']}\n{report.get('traceback', '')}")
        if exit_code != 0:
            raise HarnessProtocolError(f"docker: harness exited with {status}: {diagnostics}")
        if oom_killed:  # a worker was OOM-killed and the harness reported it: only a note
            diagnostics = f"[container OOMKilled: a worker hit the container's memory limit]\n{diagnostics}"
        return SandboxRun(report=report, wall_time_s=wall, backend=self.name, diagnostics=diagnostics)

    def _wait(self, container: Any, deadline: float, deadline_s: float) -> int:
        """The harness's exit code; past the deadline the container is killed (SandboxTimeout)."""
        import requests.exceptions

        engine_errors = _engine_errors()
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise requests.exceptions.ReadTimeout("no time left")
            result = container.wait(timeout=remaining)
            return int(result.get("StatusCode", -1))
        except engine_errors as exc:
            if time.monotonic() < deadline - 0.5 and not isinstance(exc, requests.exceptions.ReadTimeout):
                raise SandboxUnavailable(f"docker: lost the engine while waiting for the harness: {exc}") from exc
            try:
                container.kill()
            except engine_errors:
                pass  # already gone, or the engine is: remove() in the finally tries again
            raise SandboxTimeout(f"docker: the harness gave no report within {deadline_s:g} s") from exc


def _read_logs(container: Any, *, stdout: bool, cap: int) -> bytes:
    """One stream of the container's output, at most ``cap`` bytes read."""
    stream = container.logs(stdout=stdout, stderr=not stdout, stream=True, follow=False)
    data = bytearray()
    try:
        for chunk in stream:
            data += chunk
            if len(data) >= cap:
                break
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    return bytes(data[:cap])


def _lifetime(state: dict[str, Any]) -> float | None:
    """Seconds from the container's process start to its exit, by the engine's clock."""
    from datetime import datetime

    def parse(stamp: str) -> datetime:
        # '2026-11-24T10:14:08.123456789Z': fromisoformat takes at most 6 fraction digits
        head, _, frac = stamp.rstrip("Z").partition(".")
        return datetime.fromisoformat(f"{head}.{(frac or '0')[:6]:0<6}+00:00")

    try:
        return (parse(state["FinishedAt"]) - parse(state["StartedAt"])).total_seconds()
    except (KeyError, ValueError):
        return None


def _remove(container: Any) -> None:
    """Force-remove; errors are swallowed (the sweep by label catches what is left)."""
    try:
        container.remove(force=True)
    except Exception as exc:  # NotFound (already gone), engine errors
        import docker.errors

        if not isinstance(exc, docker.errors.NotFound):
            print(f"convgrade: could not remove container {getattr(container, 'name', '?')}: {exc}; "
                  "`convgrade clean-containers` removes leftovers", file=sys.stderr)


def sweep_containers(client: Any, *, run_id: str | None = None) -> int:
    """Force-remove every container labelled convgrade=1 (running ones too), or only
    run ``run_id``'s; return how many were removed.

    Meant for leftovers: a sweep of all also ends gradings in progress on this engine.
    """
    import docker.errors

    labels = [f"{LABEL}=1"] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
    removed = 0
    for container in client.containers.list(all=True, filters={"label": labels}):
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass  # removed meanwhile by its own run's finally
    return removed
