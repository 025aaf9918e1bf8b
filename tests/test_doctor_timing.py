"""`convgrade doctor --timing` end to end on the process backend: A/A gradings of the reference
against itself, their spread stored for this host, and a later grading's interval using it
(the estimate's units: tests/unit/grading/test_drift_estimate.py, tests/unit/harness/test_drift.py)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.grading import machine_cache
from grader.grading.config import GradingConfig, TimingSettings
from grader.grading.drift_check import reference_submission
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox

QUICK_TIMING = {"size": "small", "budget_s": 0.2, "min_trials": 3, "max_trials": 3, "warmup_s": 0.0, "pairs": 2}


def test_the_generated_submission_is_the_reference_under_the_students_names(tmp_path):
    import numpy as np

    from reference import strided

    namespace: dict = {}
    exec(compile(reference_submission(GradingConfig()), "reference_as_student.py", "exec"), namespace)  # our own code, not a student's
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out, cache = namespace["conv_forward_naive"](x, w, b, {"stride": 2, "pad": 1})
    expected, expected_cache = strided.conv_forward(x, w, b, {"stride": 2, "pad": 1})
    np.testing.assert_array_equal(out, expected)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(namespace["conv_backward_naive"](dout, cache), strided.conv_backward(dout, expected_cache)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow  # two gradings, each waiting for a quiet machine: 20-40 s
def test_doctor_timing_measures_stores_and_a_grading_uses_the_hosts_drift(tmp_path, monkeypatch, examples_dir):
    cache = tmp_path / "machine.json"
    monkeypatch.setenv("CONVGRADE_MACHINE_CACHE", str(cache))
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"timing": QUICK_TIMING}))

    done = CliRunner().invoke(cli_module.cli, ["doctor", "--timing", "--count", "2", "--spacing", "0",
                                               "--config", str(config_file)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "Drift between gradings: 2 gradings of the reference against itself, 0 s apart (small, process sandbox)" in lines
    gradings = [line for line in lines if line.startswith("  grading ")]
    assert len(gradings) == 2
    for index, line in enumerate(gradings, 1):
        assert re.fullmatch(rf"  grading {index}/2 at +\d+ s: forward \d+\.\d{{4}}, backward \d+\.\d{{4}}", line), line
    assert f"  stored in {cache}" in lines

    entry = machine_cache.load_drift(cache, "small")
    assert entry["gradings"] == 2 and entry["spacing_s"] == 0.0
    assert entry["identity"] == machine_cache.host_identity()
    assert sorted(entry["figures"]) == ["backward", "forward"]
    assert all(len(values) == 2 and all(0.3 < v < 3 for v in values) for values in entry["figures"].values())
    assert 0 <= entry["cv"] <= entry["cv_upper"] <= 0.5

    # With the floor at 0, the next grading's interval takes this host's measured spread.
    config = GradingConfig(timing=TimingSettings(**QUICK_TIMING, between_gradings_cv=0.0))
    result = grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), config, seed=1,
                              machine_cache_path=cache)
    source = f"measured on this host (2 A/A gradings, {entry['measured_at']})"
    for row in result.timing:
        assert (row.between_gradings_cv, row.drift_source) == (entry["cv_upper"], source)
        assert row.ci_method.endswith(f"with {entry['cv_upper']:.1%} between gradings ({source})")


def test_doctor_timing_refuses_another_assignment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVGRADE_MACHINE_CACHE", str(tmp_path / "machine.json"))
    done = CliRunner().invoke(cli_module.cli, ["doctor", "--timing", "--assignment", "cs231n-maxpool"])
    assert done.exit_code != 0
    assert ("--timing: the cs231n-maxpool assignment offers no submission made of its reference; --timing "
            "measures with cs231n-conv") in str(done.exception) + done.output
    assert not (tmp_path / "machine.json").exists()
