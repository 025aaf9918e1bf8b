"""A pack's declared calls drive the harness: an input a call declares mutable (a batchnorm
forward's running mean, in train mode) may change in place, and every input it does not
declare is still the "changed its input" failure, in the checks and in the timed trials.

The harness runs for real (its workers, the student's code, the arena comparison), in a
child process whose max-pooling pack declares its forward's x mutable; the submission writes
into x in forward and into dout in backward.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.config import GradingConfig, TimingSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "submissions" / "maxpool" / "hostile_writes_input.py"

# The harness, with the forward's mutable inputs taken from the command line.
CHILD = """
import dataclasses, json, sys
from grader.harness.assignments import cs231n_maxpool as pack
from grader.harness.job import HarnessJob
from grader.harness.run import Run

forward, *rest = pack.CALLS
pack.CALLS = (dataclasses.replace(forward, mutable=tuple(sys.argv[1:])), *rest)
print(json.dumps(Run(HarnessJob.from_json(json.load(sys.stdin))).execute()))
"""


def run_harness(tmp_path: Path, mutable: tuple[str, ...]) -> dict:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / EXAMPLE.name).write_text(EXAMPLE.read_text())
    config = GradingConfig(assignment="cs231n-maxpool", hidden_cases=2, timing=TimingSettings(
        size="small", budget_s=0.1, min_trials=3, max_trials=3, warmup_s=0.0, pairs=1))
    job = config.harness_job(20261128) | {
        "submission_root": str(submission), "entry": EXAMPLE.name, "uid_base": None, "isolate_namespaces": False,
        "scratch_parent": str(tmp_path), "timing_lock": None, "hide_paths": []}
    done = subprocess.run([sys.executable, "-c", CHILD, *mutable], input=json.dumps(job), capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("mutable, blamed, spared", [
    ((), "max_pool_forward_naive changed its input x", "max_pool_backward_naive changed its input dout"),
    (("x",), "max_pool_backward_naive changed its input dout", "max_pool_forward_naive changed its input x"),
], ids=["nothing-declared", "forward-x-declared"])
def test_a_declared_mutable_input_may_change_and_an_undeclared_one_still_fails(tmp_path, mutable, blamed, spared):
    report = run_harness(tmp_path, mutable)
    checks = {check["id"]: check for check in report["checks"]}
    inputs = checks["inputs-unchanged"]
    assert not inputs["passed"]
    assert blamed in inputs["message"]
    # Every answer is right: only the inputs check fails.
    assert [check_id for check_id, check in checks.items() if not check["passed"]] == ["inputs-unchanged"]
    timing = {row["call"]: row["reason"] for row in report["timing"]}
    assert timing["forward"] == timing["backward"] and timing["forward"].startswith(f"not timed: {blamed}")
    if not mutable:
        return
    # x declared: its change is nobody's failure, in the checks or in the timed trials.
    assert spared not in inputs["message"] and spared not in timing["forward"]
    # pool_param was not declared: its change is still shown (reported by the student's process, never scored).
    assert "Your own process reported: max_pool_forward_naive changed its input pool_param" in inputs["message"]
