"""Sandbox overhead benchmark (not a test): the process backend against the docker backend.

Grades one submission (default: submissions/examples/fast_strided.py) REPEATS times with
each backend, alternating, default configuration, one seed, and prints the median
end-to-end wall time (grade_submission: load, stage, sandbox, score, validate) per
backend and the difference, then where the docker backend's time goes: ensure_image
(once per DockerSandbox), create, start, the wait for the harness (and, by the engine's
clock, the container's lifetime), reading the logs, remove. One untimed warm-up grading
per backend first (page cache, image layers).

    make bench-sandbox [REPEATS=5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from grader.grading.config import GradingConfig
from grader.grading.grade import grade_submission
from grader.sandbox.base import SandboxJob, SandboxRun
from grader.sandbox.docker import DockerSandbox
from grader.sandbox.process import ProcessSandbox

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SUBMISSION = ROOT / "submissions" / "examples" / "fast_strided.py"
SEED = 20261124
DOCKER_PHASES = ("create", "start", "harness", "container_lifetime", "logs", "remove")


class Timed:
    """A sandbox wrapper recording how long each ``run`` took."""

    def __init__(self, inner):
        self.inner, self.name, self.times = inner, inner.name, []

    def run(self, job: SandboxJob) -> SandboxRun:
        started = time.monotonic()
        try:
            return self.inner.run(job)
        finally:
            self.times.append(time.monotonic() - started)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--submission", type=Path, default=DEFAULT_SUBMISSION)
    args = parser.parse_args()
    config = GradingConfig()

    docker_box = DockerSandbox()
    started = time.monotonic()
    docker_box.ready()
    first_image_s = time.monotonic() - started
    started = time.monotonic()
    DockerSandbox().ready()  # what every new instance pays when the image is up to date
    image_s = time.monotonic() - started

    sandboxes = {"process": Timed(ProcessSandbox()), "docker": Timed(docker_box)}
    wall = {name: [] for name in sandboxes}
    phases: dict[str, list[float]] = {phase: [] for phase in DOCKER_PHASES}
    for repeat in range(args.repeats + 1):  # repeat 0: the warm-up, not counted
        for name, sandbox in sandboxes.items():
            began = time.monotonic()
            result = grade_submission(args.submission, sandbox, config, seed=SEED)
            elapsed = time.monotonic() - began
            if not result.gradable:
                print(f"{name}: not gradable: {result.failure.message}", file=sys.stderr)
                return 1
            if repeat == 0:
                sandbox.times.clear()
                continue
            wall[name].append(elapsed)
            if name == "docker":
                for phase in DOCKER_PHASES:
                    if phase in docker_box.last_phases:
                        phases[phase].append(docker_box.last_phases[phase])

    process_s, docker_s = median(wall["process"]), median(wall["docker"])
    print(f"{args.submission.name}, default config, seed {SEED}, {args.repeats} gradings per backend "
          f"(+1 warm-up), medians in seconds")
    print(f"{'':34} {'process':>8} {'docker':>8} {'diff':>8}")
    print(f"{'end to end (grade_submission)':34} {process_s:8.3f} {docker_s:8.3f} {docker_s - process_s:+8.3f}")
    run_p, run_d = median(sandboxes["process"].times), median(sandboxes["docker"].times)
    print(f"{'  of which sandbox.run':34} {run_p:8.3f} {run_d:8.3f} {run_d - run_p:+8.3f}")
    print(f"{'  host side (load, score, schema)':34} {process_s - run_p:8.3f} {docker_s - run_d:8.3f}")
    print()
    print("docker backend, per grading:")
    labels = {
        "create": "create (API: container + mounts)",
        "start": "start (runc, cgroups, netns, init)",
        "harness": "wait for the harness to exit",
        "container_lifetime": "  = container lifetime (engine clock)",
        "logs": "logs (stdout + stderr) + inspect",
        "remove": "remove (force)",
    }
    for phase in DOCKER_PHASES:
        print(f"  {labels[phase]:38} {median(phases[phase]):8.3f}")
    print(f"  {'ensure_image, once per DockerSandbox':38} {image_s:8.3f}  (first: {first_image_s:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
