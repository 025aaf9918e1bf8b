"""Operating-system locks for the processes that run untrusted code (Linux only).

Three layers, each used where the platform allows it:

- ``isolate_namespaces``: private mount, network and IPC namespaces for the whole
  harness tree (process backend, as root). In them the harness mounts a size-capped
  tmpfs as its scratch space, covers the shared writable folders, and hides the
  grader's folders and other students' files. The network namespace has only a
  loopback that is down. Under Docker the container provides all of this.
- ``build_worker_root``: the allow-list filesystem each worker is chrooted into: the
  system folders, the Python runtime, its code and its home, nothing else.
  Where it cannot be built (no CAP_SYS_ADMIN), Landlock gives the same allow-list
  (``landlock``; the choice is ``isolation``'s).
- ``WorkerLimits.preexec``: in each worker, between fork and exec: resource limits,
  the chroot, a private user id (so the worker cannot signal, trace or read the
  harness, nor the other worker), one CPU core, no new privileges, and death with the
  harness; then a fresh session keyring and the seccomp filter (``seccomp``).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass

from . import seccomp

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
KEYCTL_JOIN_SESSION_KEYRING = 1
_KEYCTL = seccomp.SYSCALLS.get(seccomp.machine(), {}).get("keyctl", -1)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                    data.encode() if data else None),
        f"mount {fstype or source} on {target}",
    )


def isolate_namespaces() -> None:
    """Enter new mount, network and IPC namespaces; mounts made afterwards stay private to
    this tree, and System V shared memory or message queues a worker creates vanish with
    it instead of outliving the run in the host's memory."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)


def enter_pid_namespace() -> bool:
    """Continue as process 1 of a new PID namespace; False (and nothing changed) where
    that is not allowed (not root, or a container without CAP_SYS_ADMIN).

    The calling process stays outside and only waits: it forks, the child goes on, and
    the parent exits with the child's status. As process 1, the harness takes every
    process it started down with it when it exits or is killed, whatever session a
    worker put itself in, and no worker can see or signal a process of another
    grading, even one that happens to share its uid."""
    if _libc.unshare(CLONE_NEWPID) != 0:
        return False
    # The child of a fork loses the parent-death signal its parent was started with, so
    # the grader's death would leave process 1 grading on for nobody: it sets its own,
    # tied to this waiting parent, and leaves if the parent is already gone (the pipe's
    # write end, held here only, is closed).
    parent_alive, parent_holds = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(parent_holds)
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
        os.set_blocking(parent_alive, False)
        try:
            gone = os.read(parent_alive, 1) == b""
        except BlockingIOError:
            gone = False
        os.close(parent_alive)
        if gone:
            os._exit(1)
        return True
    os.close(parent_alive)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


# Folders any user may write to: a worker could leave files there for later runs (or
# another student) to find, or fill the host's memory through /dev/shm.
SHARED_WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


def cover_shared_dirs(scratch: str, runtime: list[str]) -> None:
    """Cover every world-writable folder of SHARED_WRITABLE_DIRS with an empty read-only
    tmpfs. What must stay reachable below one is bound back at its path, from a
    descriptor opened before its parent was covered: ``scratch`` (writable) and the
    ``runtime`` folders the workers run from (read-only), e.g. a virtual environment in
    a checkout under /tmp."""
    keep = {os.path.realpath(scratch): False}
    for path in runtime:
        keep.setdefault(os.path.realpath(path), True)
    # A folder inside another kept one comes back with it.
    keep = {path: ro for path, ro in keep.items() if not any(path.startswith(other + "/") for other in keep)}
    fds = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in keep}
    try:
        covered: set[str] = set()
        for path in SHARED_WRITABLE_DIRS:
            real = os.path.realpath(path)
            if real in covered or not os.path.isdir(real) or not os.stat(real).st_mode & 0o002:
                continue
            covered.add(real)
            _mount("tmpfs", real, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
            for kept, read_only in keep.items():
                if kept.startswith(real + "/"):
                    os.makedirs(kept)
                    _mount(f"/proc/self/fd/{fds[kept]}", kept, None, MS_BIND | MS_REC, None)
                    if read_only:
                        _mount("none", kept, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
            _mount("none", real, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    finally:
        for fd in fds.values():
            os.close(fd)


def private_proc() -> None:
    """A /proc of our own (a separate instance since Linux 5.8) that shows a worker only
    its own process: no command lines (``convgrade grade --seed N``) or other details of
    the host's processes. Root (the harness) still sees every process."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")


def mount_scratch(path: str, size_bytes: int) -> None:
    """A size-capped tmpfs at ``path``: the student cannot fill the host's disk through it."""
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_bytes},mode=0711")


def hide_path(path: str) -> None:
    """Cover ``path`` with an empty, read-only, unreadable tmpfs; a file (the submission
    itself, say) with a read-only bind of /dev/null: it reads as empty, cannot be written."""
    if not os.path.isdir(path):
        _mount("/dev/null", path, None, MS_BIND, None)
        _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, None)
        return
    _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4096,mode=0")


def not_dumpable() -> None:
    """Keep this process's memory out of reach of its own uid (/proc/<pid>/mem, ptrace)."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def can_isolate_namespaces() -> bool:
    """Probe in a throw-away child whether namespaces can be entered here."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            isolate_namespaces()
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


# What a worker's root holds besides its own folders: the system's programs and
# libraries (read-only). Anything else on the machine (other checkouts of the grader,
# other users' files, /tmp) is simply not there: an allow-list, not a deny-list.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")


def _bind_read_only(source: str, target: str) -> None:
    """Bind the file or folder ``source`` at ``target`` (made here), read-only."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC, None)
    _mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)


def show_only_packages(new_root: str, site: str, names: list[str]) -> None:
    """Inside ``new_root``, cover the site-packages folder ``site`` with an empty tmpfs
    and bind back only ``names`` (the packages the workers may import, student_packages):
    the system folders and the runtime bring whole site folders into the root, the
    grader's dependencies among them."""
    target = new_root + site
    os.makedirs(target, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for name in names:
        _bind_read_only(os.path.join(site, name), os.path.join(target, name))
    _mount("none", target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def build_worker_root(new_root: str, read_only: list[str], writable: list[str],
                      packages: dict[str, list[str]] | None = None) -> None:
    """The filesystem a worker is chrooted into: an empty tmpfs with the system folders,
    ``read_only`` (the Python runtime, the worker's code) and ``writable`` (its home)
    bound in at their own paths, a few devices, and a /proc that shows only its own
    process. ``packages``: {site-packages folder: the entries of it the workers may see};
    every such folder shows those entries and nothing else. Mounts made here stay in our
    private namespace."""
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    binds = [(path, True) for path in (*SYSTEM_DIRS, *read_only)] + [(path, False) for path in writable]
    for source, read_only_bind in binds:
        if not os.path.lexists(source):
            continue
        target = new_root + source
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):  # merged /usr: /bin -> usr/bin stays a link
            if not os.path.lexists(target):
                os.symlink(os.readlink(source), target)
            continue
        if os.path.isdir(target) and os.listdir(target):
            continue  # already inside an earlier bind (a runtime folder under /usr, say)
        os.makedirs(target, exist_ok=True)
        _mount(source, target, None, MS_BIND | MS_REC, None)
        if read_only_bind:
            _mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)
    for site, names in (packages or {}).items():
        if names or os.path.isdir(new_root + site):  # a folder not in the root, with nothing to show: skipped
            show_only_packages(new_root, site, names)
    for device in DEVICES:
        target = new_root + device
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
        _mount(device, target, None, MS_BIND, None)
    os.makedirs(new_root + "/proc")
    _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    _mount("none", new_root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


@dataclass(frozen=True)
class WorkerLimits:
    address_space_bytes: int
    file_size_bytes: int
    open_files: int
    cpu_seconds: int
    uid: int | None = None  # a private uid per worker; None when not running as root
    tasks: int | None = None  # RLIMIT_NPROC (counts every process of the uid the worker runs as)
    cpu: int | None = None
    oom_score_adj: int = 1000
    root: str | None = None  # chroot into this allow-list root (build_worker_root); needs root
    workdir: str | None = None  # the cwd again, inside the new root
    syscall_filter: seccomp.Filter | None = None  # built in the parent; installed last
    landlock: object | None = None  # a landlock.Ruleset built in the parent (where no chroot is made)

    def preexec(self) -> None:
        """Runs in the child between fork and exec: order matters (limits, then identity)."""
        # Ahead of the harness for the OOM killer: a container's memory limit must kill
        # the worker that overran it, never the harness that would report it. First: the
        # parent's descriptors are closed only after this function, so under RLIMIT_NOFILE
        # a busy parent (one holding 64 descriptors) would leave no number to open it with.
        # A harness under the caller's uid makes itself non-dumpable (workspace.py): its child's
        # /proc/self then belongs to root until exec. Dumpable again (exec would do it anyway).
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        with open("/proc/self/oom_score_adj", "w") as oom:
            oom.write(str(self.oom_score_adj))
        limits = [
            (resource.RLIMIT_AS, self.address_space_bytes),
            (resource.RLIMIT_FSIZE, self.file_size_bytes),
            (resource.RLIMIT_NOFILE, self.open_files),
            (resource.RLIMIT_CPU, self.cpu_seconds),
            (resource.RLIMIT_CORE, 0),
        ]
        if self.tasks is not None:
            limits.append((resource.RLIMIT_NPROC, self.tasks))
        for which, value in limits:
            resource.setrlimit(which, (value, value))
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})
        if self.root is not None:  # before dropping privileges; chdir so no cwd stays outside
            os.chroot(self.root)
            os.chdir(self.workdir or "/")
        # A new anonymous session keyring: the one inherited from whoever started the
        # grader (and any key a previous student left under this uid) is out of reach.
        # Docker's own profile refuses keyctl (EPERM), which is as good.
        _libc.syscall(_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None, 0, 0, 0)
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        # Set after the uid change, which clears it: the worker dies with the harness.
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
        if self.landlock is not None:  # the file allow-list where no chroot could be built
            self.landlock.restrict()
        if self.syscall_filter is not None:  # last: it denies clearing PDEATHSIG, among others
            self.syscall_filter.install()
