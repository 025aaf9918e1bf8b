"""The isolation ladder: what this process may do, and the strongest sandbox it gives.

One job: probe, before a grading, which protections are available, so that the
harness uses the best of them and the result says honestly what it got and lacked.
A missing privilege is never a failure: each rung below is a complete sandbox, only a
weaker one.

1. ``namespaces`` (root with CAP_SYS_ADMIN): private mount, network, IPC and PID
   namespaces, an allow-list chroot per worker, private uids, rlimits, seccomp.
2. ``private-uids`` (root without CAP_SYS_ADMIN: Docker's or Kubernetes' default
   capabilities, Gradescope): private uids (CAP_SETUID), rlimits, file permissions,
   seccomp, and Landlock where the kernel and the container's seccomp profile allow it.
   No chroot: its root could only be built with bind mounts, which need CAP_SYS_ADMIN;
   Landlock gives the same allow-list without them. No size-capped tmpfs either: a
   seccomp user-notification listener charges what the student writes against the
   same cap instead (``disk_cap``, Linux 5.5+).
3. ``user`` (not root): rlimits, seccomp, Landlock and the disk cap where present; the
   student runs under the grader's own uid.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from . import disk_cap, landlock, seccomp
from .lockdown import can_isolate_namespaces

CAP_SETGID, CAP_SETUID, CAP_SYS_CHROOT, CAP_SYS_ADMIN = 6, 7, 18, 21


def effective_capabilities() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


@dataclass(frozen=True)
class Abilities:
    """What the probe found this process may do."""

    root: bool
    namespaces: bool  # unshare of mount, network and IPC namespaces works (CAP_SYS_ADMIN)
    private_uids: bool  # root with CAP_SETUID and CAP_SETGID
    chroot: bool  # CAP_SYS_CHROOT
    seccomp: bool  # a filter for this architecture exists
    landlock_abi: int  # 0: none (old kernel, disabled, or refused by a seccomp profile)
    disk_cap: bool = False  # seccomp user notification works end to end (disk_cap.supported)

    @property
    def level(self) -> str:
        if self.namespaces and self.private_uids:
            return "namespaces"
        return "private-uids" if self.private_uids else "user"


def probe(try_namespaces: bool = True) -> Abilities:
    caps = effective_capabilities()
    root = os.geteuid() == 0
    has = lambda cap: bool(caps >> cap & 1)  # noqa: E731
    return Abilities(
        root=root,
        namespaces=try_namespaces and root and can_isolate_namespaces(),
        private_uids=root and has(CAP_SETUID) and has(CAP_SETGID),
        chroot=root and has(CAP_SYS_CHROOT),
        seccomp=seccomp.supported(),
        landlock_abi=landlock.abi_version(),
        disk_cap=seccomp.supported() and disk_cap.supported(),
    )


@dataclass
class Isolation:
    """What a grading got and lacked, in words for staff (``environment.isolation``)."""

    level: str
    has: list[str] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)


def describe(abilities: Abilities, *, pid_namespace: bool, landlock_used: int, runtime_copied: bool,
             exposed: list[str], inside_container: bool, disk_cap_bytes: int | None = None) -> Isolation:
    """``landlock_used``: the ABI applied to the workers (0: none). ``exposed``: grader
    files the student's uid could read. ``inside_container``: the harness runs in a
    container of the Docker backend, which supplies the namespaces itself.
    ``disk_cap_bytes``: the student's disk budget (disk_cap), where no tmpfs holds it."""
    has, lacks = ["resource limits (memory, CPU time, files, file size) and one core per worker"], []
    if abilities.namespaces:
        has += ["private mount, network and IPC namespaces", "an allow-list chroot per worker",
                "a private /proc and covered shared folders (/tmp, /dev/shm)"]
    elif inside_container:
        has.append("the container's namespaces, read-only root and no network")
    else:
        lacks.append("namespaces (mount, network, IPC): need CAP_SYS_ADMIN")
        lacks.append("chroot: its root needs bind mounts (CAP_SYS_ADMIN)" if abilities.chroot or abilities.root
                     else "chroot: needs root")
    if pid_namespace:
        has.append("a PID namespace: every worker dies with the harness")
    else:
        lacks.append("PID namespace: a worker that leaves its session could outlive the harness")
    if abilities.private_uids:
        has.append("private uids for student and reference (no signals, tracing or reading across them)")
        if runtime_copied:
            has.append("a copy of the Python runtime the private uid can read")
    else:
        lacks.append("private uids (need root): the student runs under the grader's own uid")
    if abilities.seccomp:
        has.append("seccomp filter (no inet sockets, ptrace, process_vm_*, keyrings, namespaces, mounts)")
    else:
        lacks.append(seccomp.description())
    if landlock_used:
        has += landlock.what_it_confines(landlock_used)
    elif not abilities.namespaces and not inside_container:
        lacks.append("Landlock (Linux 5.13+; an older Docker's seccomp profile refuses it): files are "
                     "confined by permissions only" if not abilities.landlock_abi else "Landlock")
    if not abilities.namespaces and not inside_container:
        if abilities.disk_cap:
            size = f"{disk_cap_bytes / 2**20:g} MiB" if disk_cap_bytes else "limits.scratch_bytes"
            has.append(f"a disk budget of {size} for everything the student's process writes, anywhere: "
                       f"past it a write fails with ENOSPC (seccomp user notification)")
        else:
            lacks.append("a total disk cap (no size-capped tmpfs without CAP_SYS_ADMIN, and seccomp user "
                         "notification needs Linux 5.5+): the student's files are limited one by one (RLIMIT_FSIZE)")
    for path in exposed:
        lacks.append(f"file permissions: {path} is readable by the student's uid")
    return Isolation(level=abilities.level if not inside_container else f"container, {abilities.level}",
                     has=has, lacks=lacks)


def readable_by_others(path: str) -> bool:
    """Whether a uid with no group in common can read ``path`` (and search every folder
    above it): the question for a private uid, which has no supplementary groups."""
    path = os.path.realpath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    if mode & need != need:
        return False
    parent = os.path.dirname(path)
    while True:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        if parent == "/":
            return True
        parent = os.path.dirname(parent)
