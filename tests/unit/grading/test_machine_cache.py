"""The machine figures are measured once per host and kept (grader.grading.machine_cache): what is
stored, what is read back, and what makes the harness measure anew (a grading's record of where
its figures came from: tests/test_machine_cache.py). No timed assertions: only which figures are used."""

from __future__ import annotations

import json
import tempfile

import pytest

from grader.grading import machine_cache
from grader.harness import speed_feedback

ASSIGNMENT, SIZE = "cs231n-conv", "small"
IDENTITY = {"host": "grading-host", "python": "3.11.7", "numpy": "2.4.6", "blas": "scipy-openblas 0.3.31",
            "cpu_model": "Intel(R) Xeon(R) Processor", "cpus": 2, "assignment": ASSIGNMENT, "size": SIZE,
            "reference": "65a1f519b95db36b"}
FIGURES = {fn: {"reference_s": 0.002, "gemm_s": 0.001, "reference_percent_of_peak": 50.0}
           for fn in ("forward", "backward")}
ENTRY = {"identity": IDENTITY, "figures": FIGURES, "measured_at": "2026-11-28T17:00:00Z"}


def test_an_entry_is_stored_and_read_back_for_its_assignment_and_size_only(tmp_path):
    path = tmp_path / "cache" / "machine.json"
    assert machine_cache.store(path, ENTRY, ASSIGNMENT, SIZE)
    assert machine_cache.load(path, ASSIGNMENT, SIZE) == ENTRY
    assert machine_cache.load(path, ASSIGNMENT, "speed-cell") is None
    assert machine_cache.load(path, "cs231n-maxpool", SIZE) is None
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_new_measurement_replaces_the_old_and_keeps_other_sizes(tmp_path):
    path = tmp_path / "machine.json"
    other = {**ENTRY, "identity": {**IDENTITY, "size": "speed-cell"}}
    machine_cache.store(path, other, ASSIGNMENT, "speed-cell")
    machine_cache.store(path, ENTRY, ASSIGNMENT, SIZE)
    newer = {**ENTRY, "measured_at": "2026-11-29T09:00:00Z"}
    machine_cache.store(path, newer, ASSIGNMENT, SIZE)
    assert machine_cache.load(path, ASSIGNMENT, SIZE) == newer
    assert machine_cache.load(path, ASSIGNMENT, "speed-cell") == other


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", json.dumps({f"{ASSIGNMENT}/{SIZE}": "x"})])
def test_a_missing_or_unreadable_cache_means_measure_again(tmp_path, text):
    path = tmp_path / "machine.json"
    assert machine_cache.load(path, ASSIGNMENT, SIZE) is None
    path.write_text(text)
    assert machine_cache.load(path, ASSIGNMENT, SIZE) is None


@pytest.mark.parametrize("figures", [
    {"forward": FIGURES["forward"]},  # a pass missing
    {**FIGURES, "forward": {**FIGURES["forward"], "gemm_s": float("nan")}},
    {**FIGURES, "forward": {**FIGURES["forward"], "reference_s": -1.0}},
    {**FIGURES, "forward": {**FIGURES["forward"], "reference_percent_of_peak": "50"}},
    {**FIGURES, "forward": {**FIGURES["forward"], "extra": 1.0}},
])
def test_implausible_figures_are_neither_stored_nor_used(tmp_path, figures):
    path = tmp_path / "machine.json"
    bad = {**ENTRY, "figures": figures}
    assert not machine_cache.store(path, bad, ASSIGNMENT, SIZE)
    assert not path.exists()
    path.write_text(json.dumps({f"{ASSIGNMENT}/{SIZE}": bad}))
    assert machine_cache.load(path, ASSIGNMENT, SIZE) is None
    assert speed_feedback.cached_figures(bad, IDENTITY) is None


def test_an_entry_stored_under_another_size_is_not_read_as_this_one(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({f"{ASSIGNMENT}/{SIZE}": {**ENTRY, "identity": {**IDENTITY, "size": "speed-cell"}}}))
    assert machine_cache.load(path, ASSIGNMENT, SIZE) is None


@pytest.mark.parametrize("field, value", [("host", "another-host"), ("cpu_model", "AMD EPYC 7B13"), ("cpus", 4),
                                          ("numpy", "2.5.0"), ("blas", "mkl 2024.1"), ("python", "3.12.1"),
                                          ("reference", "0123456789abcdef")])
def test_the_harness_measures_anew_when_the_host_cpu_blas_or_reference_changed(field, value):
    assert speed_feedback.cached_figures(ENTRY, IDENTITY) == FIGURES
    assert speed_feedback.cached_figures(ENTRY, {**IDENTITY, field: value}) is None


def test_a_changed_reference_file_changes_the_digest():
    files = [("strided.py", b"def conv_forward(): ..."), ("validate.py", b"")]
    assert speed_feedback.code_digest(files) == speed_feedback.code_digest(list(reversed(files)))
    assert speed_feedback.code_digest(files) != speed_feedback.code_digest([("strided.py", b"# faster"), files[1]])


def test_a_cache_beside_the_gradings_temporary_folders_hides_only_its_file(tmp_path, monkeypatch):
    """A cache set to /tmp/... must not hide /tmp from the grading (its own scratch lives there):
    the file alone is hidden; a cache folder of its own is hidden whole."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    beside = tmp_path / "machine.json"
    assert machine_cache.hidden_paths(beside) == ()
    beside.write_text("{}")
    assert machine_cache.hidden_paths(beside) == (beside.resolve(),)
    own = tmp_path / "cache" / "convgrade"
    own.mkdir(parents=True)
    assert machine_cache.hidden_paths(own / "machine.json") == (own.resolve(),)
    assert machine_cache.hidden_paths(tmp_path.parent / "machine.json") == ()  # an ancestor of the scratch


def drift_entry(**changes) -> dict:
    """A drift measurement (grader.grading.drift_check's shape) made on this very host."""
    return {"identity": machine_cache.host_identity(), "cv": 0.012, "cv_upper": 0.031, "gradings": 6,
            "figures": {"forward": [1.0, 0.99, 1.01, 1.0, 0.98, 1.02]}, "spacing_s": 30.0,
            "measured_at": "2026-12-08T02:00:00Z", **changes}


def test_this_hosts_drift_is_stored_beside_the_figures_and_sent_to_the_harness(tmp_path):
    path = tmp_path / "machine.json"
    assert machine_cache.store(path, ENTRY, ASSIGNMENT, SIZE)
    assert machine_cache.store_drift(path, drift_entry(), SIZE)
    assert machine_cache.load(path, ASSIGNMENT, SIZE) == ENTRY  # the figures are untouched
    assert machine_cache.load_drift(path, SIZE) == drift_entry()
    # The harness gets the upper bound, with when and from how many gradings.
    assert machine_cache.drift_for_harness(path, SIZE) == {
        "cv": 0.031, "measured_at": "2026-12-08T02:00:00Z", "gradings": 6}
    assert machine_cache.drift_for_harness(path, "speed-cell") is None
    key = f"drift/{machine_cache.host_name()}/{SIZE}"
    assert set(json.loads(path.read_text())) == {f"{ASSIGNMENT}/{SIZE}", key}


def test_another_hosts_or_cpus_drift_is_not_used(tmp_path):
    path = tmp_path / "machine.json"
    identity = machine_cache.host_identity()
    # Another host sharing the file keeps its own key, and is never read for this one.
    assert machine_cache.store_drift(path, drift_entry(identity={**identity, "host": "elsewhere"}), SIZE)
    assert machine_cache.load_drift(path, SIZE) is None
    # This host's name with another CPU (the machine was replaced): not this machine's drift.
    assert machine_cache.store_drift(path, drift_entry(identity={**identity, "cpus": 64}), SIZE)
    assert machine_cache.drift_for_harness(path, SIZE) is None
    assert machine_cache.store_drift(path, drift_entry(), SIZE)
    assert machine_cache.load_drift(path, SIZE)["identity"] == identity


@pytest.mark.parametrize("changes", [{"cv_upper": 0.7}, {"cv": -0.01}, {"gradings": 1}, {"gradings": 6.0},
                                     {"measured_at": None}, {"extra": 1}, {"cv": True}])
def test_an_implausible_drift_entry_is_neither_stored_nor_read(tmp_path, changes):
    path = tmp_path / "machine.json"
    assert not machine_cache.store_drift(path, drift_entry(**changes), SIZE)
    assert not path.exists()
    key = f"drift/{machine_cache.host_name()}/{SIZE}"
    path.write_text(json.dumps({key: drift_entry(**changes)}))
    assert machine_cache.load_drift(path, SIZE) is None
