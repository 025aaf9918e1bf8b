"""Entry point of the trusted harness: ``python -m grader.harness``.

Reads the job as JSON from the CONVGRADE_JOB environment variable (Docker backend)
or standard input (process backend), runs it, and prints ONE JSON report on
standard output. Nothing else is ever written to standard output: the workers'
output is captured through their own pipes and travels inside the report.
"""

import json
import os
import sys
import traceback


def main() -> int:
    raw = os.environ.pop("CONVGRADE_JOB", None) or sys.stdin.read()
    try:
        from .job import HarnessJob
        from .lockdown import enter_pid_namespace
        from .run import Run

        # The host built it through the same types; a mismatch stops here, and the harness
        # reads only the typed job from now on.
        job = HarnessJob.from_json(json.loads(raw))

        if job.sandbox.isolate_namespaces and os.geteuid() == 0:
            enter_pid_namespace()  # Run reports whether it is process 1 of a namespace

        report = Run(job).execute()
        code = 0
    except Exception as exc:  # the grader's own failure: reported, never scored
        report = {"harness_error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-8000:]}
        if type(exc).__name__ == "DiskLow":  # the machine's condition (disk_cap), said plainly: no traceback
            report = {"harness_error": str(exc)}
        code = 1
    sys.stdout.write(json.dumps(report, allow_nan=False) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
