"""`convgrade doctor`: one screen on what this machine gives a grading.

Two questions staff ask before trusting a grade or a leaderboard: how well is the
student's code isolated here (the rung of the isolation ladder the process backend
would run on, what it has and what it lacks), and how trustworthy are timings here
(cores, BLAS and its threads, CPU frequency scaling, other load).
"""

from __future__ import annotations

import glob
import os
import time

from grader.harness import isolation, runtime_copy, student_packages
from grader.harness.workers import ONE_THREAD


def isolation_lines() -> list[str]:
    abilities = isolation.probe()
    private = abilities.private_uids and not abilities.namespaces
    copied = private and not runtime_copy.reachable_by_private_uid(student_packages.for_student([]).entries)
    import reference

    exposed = []
    if private and not abilities.landlock_abi:
        grader_dirs = [os.path.dirname(os.path.dirname(isolation.__file__)), list(reference.__path__)[0]]
        exposed = [path for path in grader_dirs if isolation.readable_by_others(path)]
    described = isolation.describe(abilities, pid_namespace=abilities.namespaces,
                                   landlock_used=0 if abilities.namespaces else abilities.landlock_abi,
                                   runtime_copied=copied, exposed=exposed, inside_container=False)
    lines = [f"Isolation (process sandbox): {described.level} (Landlock ABI of this kernel: "
             f"{abilities.landlock_abi or 'none'})"]
    lines += [f"  + {item}" for item in described.has]
    lines += [f"  - {item}" for item in described.lacks]
    if copied:
        lines.append(f"  note: the runtime is not readable by other uids; workers run a copy in {runtime_copy.CACHE_ROOT}")
    return lines


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _blas_lines() -> list[str]:
    try:
        import numpy
        from threadpoolctl import threadpool_info

        pools = threadpool_info() if numpy else []  # numpy loaded first: its BLAS is what is reported
    except Exception as exc:  # informative only
        return [f"  BLAS: unknown ({type(exc).__name__})"]
    lines = [f"  BLAS: {p.get('internal_api')} {p.get('version') or ''} ({p.get('architecture') or '?'}), "
             f"{p.get('num_threads')} threads in this process" for p in pools] or ["  BLAS: none found"]
    env = {name: os.environ[name] for name in ONE_THREAD if name in os.environ}
    lines.append("  thread variables here: " + (", ".join(f"{k}={v}" for k, v in env.items()) or "none set")
                 + " (workers always get 1 thread each)")
    return lines


def _frequency_lines() -> list[str]:
    governors = sorted({_read(p) for p in glob.glob("/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor")} - {None})
    if not governors:
        return ["  frequency scaling: not visible (a VM or container usually hides it; the host may still scale)"]
    line = f"  frequency scaling: governor {', '.join(governors)}"
    if governors != ["performance"]:
        line += " (not 'performance': clocks may change between student and reference)"
    no_turbo = _read("/sys/devices/system/cpu/intel_pstate/no_turbo")
    boost = _read("/sys/devices/system/cpu/cpufreq/boost")
    if no_turbo is not None or boost is not None:
        line += ", turbo " + ("off" if no_turbo == "1" or boost == "0" else "on")
    return [line]


def _busy_processes(interval_s: float = 0.5) -> list[tuple[float, str]]:
    """Other processes using CPU over a short interval: (cores used, name)."""
    def sample() -> dict[str, tuple[int, str]]:
        found = {}
        for stat in glob.glob("/proc/[0-9]*/stat"):
            text = _read(stat)
            if not text:
                continue
            name = text[text.find("(") + 1:text.rfind(")")]
            fields = text[text.rfind(")") + 2:].split()
            found[stat] = (int(fields[11]) + int(fields[12]), name)
        return found

    before = sample()
    time.sleep(interval_s)
    after = sample()
    ticks = os.sysconf("SC_CLK_TCK") * interval_s
    me = f"/proc/{os.getpid()}/stat"
    busy = [((used - before[key][0]) / ticks, name) for key, (used, name) in after.items()
            if key in before and key != me]
    return sorted((b for b in busy if b[0] >= 0.05), reverse=True)


def timing_lines() -> list[str]:
    usable = sorted(os.sched_getaffinity(0))
    siblings = _read("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list") or "?"
    cpuinfo = _read("/proc/cpuinfo") or ""
    virtual = " hypervisor" in cpuinfo
    lines = ["Timing conditions:",
             f"  cores: {os.cpu_count()} online, usable here {','.join(map(str, usable))}; hardware threads "
             f"sharing CPU 0's core: {siblings}" + ("; a virtual machine (vCPUs may share physical cores)"
                                                      if virtual else "")]
    lines += _blas_lines()
    lines += _frequency_lines()
    one, five, _ = os.getloadavg()
    busy = _busy_processes()
    lines.append(f"  other load: load average {one:.2f} (1 min), {five:.2f} (5 min); busy now: "
                 + (", ".join(f"{name} {share:.0%}" for share, name in busy[:4]) or "nothing"))
    if one > max(0.5, len(usable) - 1) or sum(b[0] for b in busy) > 0.5:
        lines.append("  -> timings here may be noisy: grade when the machine is otherwise idle, or with "
                     "--exclusive-timing")
    return lines


def report() -> str:
    return "\n".join([*isolation_lines(), "", *timing_lines()])
