"""The deadline-rush benchmark (bench/bench_rush.py), run for real at its smallest: four
students, one who posts 8 files at once and two uploads without a valid token, ten minutes replayed in 30 s, 20 live-board
streams, the in-process cluster. Its
guarantees must hold and its figures must be there; the figures' targets are the
benchmark's to report, not this test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.rush_class import rush_class

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_rush_keeps_every_guarantee(tmp_path):
    figures = tmp_path / "rush.json"
    finished = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_rush.py"), "--students", "4", "--compress", "20",
         "--streams", "20", "--runs", "in-process", "--timeout", "240", "--json", str(figures)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    uploads = rush_class(4, 600.0, 0)
    refused = sum(upload.kind == "refused" for upload in uploads)
    document = json.loads(figures.read_text())
    assert document["uploads"] == len(uploads) + 10 and refused >= 2
    run = document["runs"]["in-process"]
    held = run["guarantees"]
    assert not run["timed_out"] and held["problems"] == [], finished.stdout
    assert held["uploads"] == held["answered"] == len(uploads) + 10
    assert held["hammer"] == {"202": 5, "429": 3}  # the rate limit, 5 in 10 minutes, holds at the rush
    assert held["intruder"] == {"401": 2}  # and nothing of theirs is stored (a problem otherwise)
    assert held["loader_refusals"] == held["refusals_kept"] == refused
    # Before the intake's second step the loader refuses with 422 and stores nothing; after it, a 202 then `rejected`.
    assert held["graded_once"] == held["acknowledged_gradable"] == len(uploads) - refused + 5
    assert run["streams"]["statuses"] == {"200": 20}
    assert run["streams"]["one_more_from_a_full_address"] == {"429": 1}  # the per-address cap holds
    assert run["streams"]["events_min"] >= 1  # every stream heard the board change
    assert run["ideal_first_p95"] > 0 and run["first_p95"] > 0
    # Every gradable upload is in the ideal queue's replay, with the grading time it measured.
    graded = run["graded"]
    assert len(graded) == len(uploads) - refused + 5 and all(g["grading_s"] > 0 for g in graded)
    assert all(g["ideal_feedback_s"] >= g["grading_s"] - 1e-9 for g in graded)
    assert "real/ideal first-upload p95" in finished.stdout and "graded exactly once" in finished.stdout
