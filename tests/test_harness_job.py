"""The harness reads its whole job typed (grader/harness/job.py ``HarnessJob``): the
grading, the keys the sandbox adds, and the host's machine keys, with the defaults a
backend that leaves a key out means, and an error naming a mistyped key."""

from __future__ import annotations

import pytest

from grader.grading.config import GradingConfig
from grader.harness.job import HarnessJob, JobError

JOB = GradingConfig(assignment="cs231n-maxpool").harness_job(7)


def test_the_process_backends_keys_are_read_typed():
    raw = {**JOB, "submission_root": "/tmp/s", "entry": "layers.py", "cpu": 3, "uid_base": 60000,
           "isolate_namespaces": True, "scratch_parent": "/tmp/p", "timing_lock": "/tmp/lock",
           "hide_paths": ["/a", "/b"], "machine": {"host": "h1", "cached": None, "quiet_wait_s": 30}}
    job = HarnessJob.from_json(raw)
    assert job.grading.seed == 7 and job.grading.limits.deadline_s == JOB["limits"]["deadline_s"]
    assert (job.sandbox.cpu, job.sandbox.uid_base, job.sandbox.hide_paths) == (3, 60000, ("/a", "/b"))
    assert job.sandbox.isolate_namespaces is True and job.sandbox.timing_lock == "/tmp/lock"
    assert (job.machine.host, job.machine.quiet_wait_s) == ("h1", 30)


def test_keys_a_backend_leaves_out_take_their_declared_defaults():
    # The Docker backend sends no hide_paths or scratch_parent, the tests no machine.
    job = HarnessJob.from_json({**JOB, "submission_root": "/s", "entry": "layers.py", "cpu": None})
    assert (job.sandbox.cpu, job.sandbox.uid_base, job.sandbox.scratch_parent, job.sandbox.hide_paths) == \
        (None, None, None, ())
    assert job.sandbox.isolate_namespaces is False
    assert (job.machine.host, job.machine.cached, job.machine.quiet_wait_s) == ("", None, 0.0)


@pytest.mark.parametrize("extra, error", [
    pytest.param({"entry": "layers.py"}, "submission_root is missing", id="missing-root"),
    pytest.param({"submission_root": "/s", "entry": "x.py", "cpu": "1"}, "cpu must be int | None", id="str-cpu"),
    pytest.param({"submission_root": "/s", "entry": "x.py", "cpu": True}, "cpu must be int | None", id="bool-cpu"),
    pytest.param({"submission_root": "/s", "entry": "x.py", "hide_paths": [1]}, "hide_paths must be a list",
                 id="hide-paths"),
    pytest.param({"submission_root": "/s", "entry": "x.py", "machine": {"quiet_wait_s": "9"}},
                 "machine.quiet_wait_s must be float", id="machine-wait"),
])
def test_a_mistyped_or_missing_key_is_named(extra, error):
    with pytest.raises(JobError, match=error):
        HarnessJob.from_json({**JOB, **extra})
