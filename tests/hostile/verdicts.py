"""Verdicts of the hostile suite's submissions and of the examples, wherever this runs.

    python tests/hostile/verdicts.py [--cases a,b] [--examples x,y] [--all]

The hostile suite (test_hostile.py) checks every case against its table, but needs root
and its host-side fixtures. This grades the same submissions with the same configuration
and seed under whatever this process is (root with or without CAP_SYS_ADMIN, a plain
user), and compares each verdict with what full privileges give: for a hostile case the
table's failing checks, their messages, the score and the output it names, for an example its golden file's score and each
check's status and points. One JSON line per submission, with the isolation the grading
got; the exit status is 1 when any verdict differs, any output says LEAKED, or a grading left
anything in its temporary folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]  # the checkout, and tests/ for the tables' helper modules

from grader.grading.config import GradingConfig, Limits, TimingSettings  # noqa: E402
from grader.grading.grade import grade_submission  # noqa: E402
from grader.sandbox import get_sandbox  # noqa: E402


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


hostile = _module(HERE / "test_hostile.py", "hostile_table")
golden = _module(TESTS / "test_examples_golden.py", "golden_table")
MiB = 1 << 20
# The suite's quick_config and hostile_config fixtures (tests/conftest.py, test_hostile.py).
QUICK = GradingConfig(timing=TimingSettings(size="small", budget_s=0.2, min_trials=3, max_trials=3, warmup_s=0.0, pairs=2))
HOSTILE = GradingConfig(hidden_cases=3, timing=QUICK.timing,
                        limits=Limits(memory_bytes=256 * MiB, scratch_bytes=32 * MiB, import_timeout_s=5,
                                      call_allowance_s=1.0, call_time_factor=500, deadline_s=90))


def _isolation(result) -> dict:
    isolation = result.environment.isolation if result.environment else None
    return {"isolation": isolation.level if isolation else None, "has": isolation.has if isolation else [],
            "lacks": isolation.lacks if isolation else []}


def _grade_alone(path: Path, config: GradingConfig, seed: int):
    """Grade with the grader's temporary files in a folder of their own; also what the grading
    left there (on a rung without a private tmpfs the scratch lives in it, under the student's
    uid or the grader's: it must be gone however the student left it)."""
    with tempfile.TemporaryDirectory(prefix="verdicts-tmp-") as private:
        os.chmod(private, 0o711)  # the workers' uids cross it, as they cross /tmp
        saved, tempfile.tempdir = tempfile.tempdir, private
        try:
            result = grade_submission(path, get_sandbox("process"), config, seed=seed)
        finally:
            tempfile.tempdir = saved
        left = sorted(os.listdir(private))
        if left:  # ours to clear, whatever the modes (a plain user's rmtree cannot)
            subprocess.run(["chmod", "-R", "u+rwx", private], capture_output=True)
    problems = [f"left behind: {left}"] if left else []
    scratch_left = result.environment.scratch_left if result.environment else []
    problems += [f"the grader reports its scratch not removed: {scratch_left}"] if scratch_left else []
    return result, problems


def hostile_verdict(case: str, folder: Path) -> dict:
    expect = dict(hostile.CASES)[case]
    path = hostile.stage(case, folder / case)
    config = hostile.case_config(HOSTILE, expect)  # the forbidden-call cases' modules and policy
    result, problems = _grade_alone(path, config, hostile.SEED)
    document = json.dumps(result.model_dump(mode="json"))
    messages = {c.id: c.message for c in result.checks if c.status.value == "failed"}
    failed = sorted(messages)
    unearned = hostile.unearned_properties(config, expect)
    wanted = sorted({c.id for c in result.checks if expect.failing(c.id)} | unearned)
    score = hostile.expected_score(config, expect)
    if not result.gradable:
        problems.append(f"not gradable: {result.failure.message[:300] if result.failure else ''}")
    if "LEAKED" in document:
        problems.append("LEAKED")
    if failed != wanted:
        problems.append(f"failed {sorted(set(failed) - set(wanted))} unexpectedly, passed {sorted(set(wanted) - set(failed))}")
    elif result.gradable:
        problems += [f"message differs: {text}" for text in hostile.message_problems(messages, expect, unearned)]
    if abs(result.score - score) > 1e-6:
        problems.append(f"score {result.score} instead of {score}")
    if expect.output and expect.output not in result.student_output:
        problems.append(f"output lacks {expect.output!r}: {result.student_output[:300]!r}")
    return {"case": case, "score": result.score, "ok": not problems, "problems": problems,
            **_isolation(result)}


def example_verdict(example: str) -> dict:
    """The example's checks (id, status, score) and total against its golden file. Not its
    bytes: a message quoting a relative error in the last bits (1.08e-16) may differ."""
    path = TESTS.parent / "submissions" / "examples" / f"{example}.py"
    result, problems = _grade_alone(path, QUICK, golden.SEED)
    expected = json.loads((golden.GOLDEN_DIR / f"{example}.json").read_text())
    verdict = lambda document: (document["score"], [(c["id"], c["status"], c["score"]) for c in document["checks"]])  # noqa: E731
    if verdict(result.model_dump(mode="json")) != verdict(expected):
        problems.append("checks or score differ from its golden file")
    return {"case": f"example:{example}", "score": result.score, "ok": not problems, "problems": problems,
            **_isolation(result)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="hostile cases, comma-separated")
    parser.add_argument("--examples", default="", help="examples, comma-separated")
    parser.add_argument("--all", action="store_true", help="every hostile case and every example")
    args = parser.parse_args()
    cases = [c for c, _ in hostile.CASES] if args.all else [c for c in args.cases.split(",") if c]
    examples = ([p.stem for p in sorted((TESTS.parent / "submissions" / "examples").glob("*.py"))] if args.all
                else [e for e in args.examples.split(",") if e])
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="verdicts-") as folder:
        for verdict in [*(hostile_verdict(c, Path(folder)) for c in cases), *(example_verdict(e) for e in examples)]:
            all_ok &= verdict["ok"]
            print(json.dumps(verdict), flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
