"""This host's drift between gradings, measured (``convgrade doctor --timing``): A/A gradings.

A grading whose "student" is the fast reference itself has a true figure of 1 for every
timed call, so how far its figures move from one grading to the next, over minutes, is the
machine's own spread between gradings (what else it was doing, its clocks, its caches),
which no single grading can see. ``count`` such gradings, ``spacing_s`` apart, give one
figure per timed call each; their spread (drift_estimate: the CV and its upper 95% bound)
is stored with the host's machine figures (machine_cache.store_drift) and from then on
used by every grading's interval on this host, never below the configured constant.

The submission is the pack's own (``reference_as_student``: its fast reference's source under
the student's function names), so it runs in the student's sandbox like any submission.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from grader.grading import drift_estimate, machine_cache
from grader.grading.config import GradingConfig
from grader.grading.grade import grade_submission
from grader.harness import assignments
from grader.sandbox.base import Sandbox


class DriftReport(NamedTuple):
    entry: dict  # what was stored (machine_cache.valid_drift's shape)
    stored: bool


def reference_submission(config: GradingConfig) -> str:
    """The configuration's pack's A/A submission: its fast reference under the student's names."""
    make = getattr(config.pack(), "reference_as_student", None)
    if make is None:
        raise ValueError(f"the {config.assignment} assignment offers no submission made of its reference; "
                         f"--timing measures with {assignments.DEFAULT}")
    return make()


def measure(sandbox: Sandbox, config: GradingConfig, cache_path: Path, folder: Path, *, count: int,
            spacing_s: float, say: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep
            ) -> DriftReport:
    """Grade the reference against itself ``count`` times, ``spacing_s`` apart, and store the spread."""
    source = reference_submission(config)
    if count < 2:
        raise ValueError(f"a spread needs at least 2 gradings, not {count}")
    submission = folder / "reference_as_student.py"
    submission.write_text(source, encoding="utf-8")
    figures: dict[str, list[float]] = {}
    started = time.monotonic()
    for index in range(count):
        if index:
            sleep(spacing_s)
        result = grade_submission(submission, sandbox, config, machine_cache_path=cache_path)
        rows = [row for row in result.timing if row.measured and row.speedup_vs_reference]
        if not result.gradable or not rows:
            reason = result.failure.message if result.failure else "no timed figure"
            raise RuntimeError(f"A/A grading {index + 1} of {count} gave no figures: {reason}")
        for row in rows:
            figures.setdefault(row.call, []).append(row.speedup_vs_reference)
        say(f"  grading {index + 1}/{count} at {time.monotonic() - started:5.0f} s: "
            + ", ".join(f"{row.call} {row.speedup_vs_reference:.4f}" for row in rows))
    spreads = {call: drift_estimate.spread(values) for call, values in figures.items()}
    # The widest call's spread stands for the host: the interval has one between-gradings term.
    widest = max(spreads.values(), key=lambda s: s.cv_upper)
    entry = {
        "identity": machine_cache.host_identity(),
        "cv": round(widest.cv, 6), "cv_upper": round(min(widest.cv_upper, 0.5), 6), "gradings": count,
        "figures": {call: [round(v, 6) for v in values] for call, values in figures.items()},
        "spacing_s": float(spacing_s),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for call, s in spreads.items():
        say(f"  {call}: CV {s.cv:.2%} over {s.gradings} gradings (upper {drift_estimate.CONFIDENCE:.0%} bound "
            f"{s.cv_upper:.2%})")
    stored = machine_cache.store_drift(cache_path, entry, config.timing.size)
    return DriftReport(entry, stored)
