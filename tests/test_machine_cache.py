"""The machine figures in a live grading: the first grading measures them, the next uses the
host's stored figures (the cache's units: tests/unit/grading/test_machine_cache.py)."""

from __future__ import annotations

import json
import socket

import pytest

from grader.grading import machine_cache
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox
from tests.unit.grading.test_machine_cache import ASSIGNMENT, SIZE


def test_a_grading_measures_once_then_the_next_uses_the_hosts_figures(tmp_path, examples_dir, quick_config):
    path = tmp_path / "machine.json"

    def grade():
        return grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), quick_config, seed=1,
                                machine_cache_path=path)

    first = grade()
    assert first.environment.peak_source.startswith("measured in this grading")
    entry = machine_cache.load(path, ASSIGNMENT, SIZE)
    assert entry["identity"]["host"] == socket.gethostname() == first.environment.host
    assert (entry["identity"]["numpy"], entry["identity"]["blas"]) == (first.environment.numpy, first.environment.blas)

    second = grade()
    assert second.environment.peak_source.startswith(f"measured at {entry['measured_at']} by an earlier grading")
    for timing in second.timing:
        figures = entry["figures"][timing.call]
        assert timing.reference_gflops == pytest.approx(timing.flops / figures["reference_s"] / 1e9)
        assert timing.peak_gflops == pytest.approx(timing.flops / figures["gemm_s"] / 1e9)
        assert timing.reference_percent_of_peak == pytest.approx(figures["reference_percent_of_peak"])

    # Planted figures for another numpy are not this host's: measured anew, and replaced.
    planted = {**entry, "identity": {**entry["identity"], "numpy": "0.0.1"},
               "figures": {fn: {"reference_s": 1.0, "gemm_s": 1.0, "reference_percent_of_peak": 100.0}
                           for fn in ("forward", "backward")}}
    path.write_text(json.dumps({f"{ASSIGNMENT}/{SIZE}": planted}))
    third = grade()
    assert third.environment.peak_source.startswith("measured in this grading")
    assert all(t.reference_percent_of_peak != 100.0 for t in third.timing)
    assert machine_cache.load(path, ASSIGNMENT, SIZE)["identity"] == entry["identity"]
