"""The order of the timed calls: each side times a run of trials in a row, and each
side's run starts with an untimed call pair of its own, always the reference's, so that
the reference is timed alike whoever it is compared with (harness.timing, "runs").

The harness runs for real (its workers, the student's code) in a child process whose
TrialRunner records every call pair of the timing phase: which side, and whether it was
the untimed call pair that starts a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.grading.config import GradingConfig, TimingSettings

ROOT = Path(__file__).resolve().parents[1]
FAST = ROOT / "submissions" / "examples" / "fast_strided.py"
# Spins 0.6 s in its first call at the timed size: a costly warm-up, so runs of one trial.
SLOW_WARM_UP = ROOT / "tests" / "hostile" / "submissions" / "slow_first_speed_call.py"

CHILD = """
import json, sys
from grader.harness import run, trials
from grader.harness.job import HarnessJob

events = []
call_pair, runs, warm_up, pair = (trials.TrialRunner.one_call_pair, trials.TrialRunner._runs,
                                  trials.TrialRunner._warm_up, trials.TrialRunner.run)

def recording_call_pair(self, role, case, timeout, timed=False):
    if not self.warming_up:
        events.append([role, case.id, case is self.rewarm_case])
    return call_pair(self, role, case, timeout, timed)

def recording_warm_up(self, *args, **kwargs):
    self.warming_up = True
    try:
        return warm_up(self, *args, **kwargs)
    finally:
        self.warming_up = False

def recording_runs(self, cases, timeout, students):
    events.append(["run", [case.id for case in cases]])
    return runs(self, cases, timeout, students)

def recording_pair(self, *args):
    events.append(["pair"])
    return pair(self, *args)

trials.TrialRunner.warming_up = False
trials.TrialRunner.one_call_pair, trials.TrialRunner._runs = recording_call_pair, recording_runs
trials.TrialRunner._warm_up, trials.TrialRunner.run = recording_warm_up, recording_pair
report = run.Run(HarnessJob.from_json(json.load(sys.stdin))).execute()
print(json.dumps({"timing": report["timing"], "events": events}))
"""


def time_in_runs(tmp_path: Path, submission_file: Path) -> tuple[list[dict], list[list]]:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / submission_file.name).write_text(submission_file.read_text())
    config = GradingConfig(hidden_cases=1, timing=TimingSettings(
        size="speed-cell", budget_s=2.0, min_trials=2, max_trials=16, warmup_s=0.0, pairs=2))
    job = config.harness_job(20261129) | {
        "submission_root": str(submission), "entry": submission_file.name, "uid_base": None,
        "isolate_namespaces": False, "scratch_parent": str(tmp_path), "timing_lock": None, "hide_paths": []}
    done = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(job), capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert all(row["measured"] for row in out["timing"]), [row.get("reason") for row in out["timing"]]
    return out["timing"], out["events"]


def runs_of(events: list[list]) -> list[tuple[list[str], list[list]]]:
    """Each run's trial ids and its call pairs as [side, case id, untimed], in order;
    checks that nothing is called outside the runs, and that each untimed call pair is on
    the inputs it should be: a pair's warm-up inputs first, then the last run's last."""
    assert events[0] == ["pair"] and events[1][0] == "run", events[:3]
    found: list[tuple[list[str], list[list]]] = []
    expected = previous = None
    for event in events:
        if event[0] == "pair":
            expected, previous = "speed--1", None  # the reference's warm-up inputs
        elif event[0] == "run":
            expected = previous[-1] if previous else expected
            previous = event[1]
            found.append((event[1], []))
        else:
            found[-1][1].append(event)
            if event[2]:
                assert event[1] == expected, (event, expected)
    return found


def test_fast_code_is_timed_in_runs_each_started_by_an_untimed_call_pair_of_its_side(tmp_path):
    timing, events = time_in_runs(tmp_path, FAST)
    assert "each side timing runs of 4 trials in turn" in timing[0]["plan"]
    assert all(row["trials"] == 16 and len(row["student_times_s"]) == 16 for row in timing)
    runs = runs_of(events)
    assert [len(ids) for ids, _ in runs] == [4, 4, 4, 4]  # 2 pairs x 2 runs
    for number, (ids, calls) in enumerate(runs):
        first, second = ("student", "reference") if number % 2 == 0 else ("reference", "student")
        assert [[side, untimed] for side, _, untimed in calls] == (
            [[first, True]] + [[first, False]] * 4 + [[second, True]] + [[second, False]] * 4), (number, calls)
        assert [case for side, case, untimed in calls if not untimed and side == first] == ids


def test_a_costly_warm_up_gets_runs_of_one_and_the_reference_is_still_timed_warm(tmp_path):
    timing, events = time_in_runs(tmp_path, SLOW_WARM_UP)
    assert "runs of" not in timing[0]["plan"]
    runs = runs_of(events)
    assert len(runs) >= 4 and all(len(ids) == 1 for ids, _ in runs)
    for number, (_, calls) in enumerate(runs):
        # The student's run has no untimed call pair (its warm-up is over REWARM_LIMIT_S);
        # the reference's always has one, so no timed reference call follows the student's.
        reference = [["reference", True], ["reference", False]]
        expected = [["student", False]] + reference if number % 2 == 0 else reference + [["student", False]]
        assert [[side, untimed] for side, _, untimed in calls] == expected, (number, calls)


PROFILE_CHILD = """
import json, sys
from grader.harness import profiling, run
from grader.harness.job import HarnessJob

calls = []
keep_for, student_call = profiling.Profiler._keep_for, None

def recording_keep_for(self, fn, case, timeout):
    calls.append(["keep_for", fn])
    return keep_for(self, fn, case, timeout)

profile_functions = profiling.Profiler._profile_functions

def recording_profile_functions(self, timing, seed, size, kept):
    calls.append(["kept", None if kept is None else sorted(kept[2]), None if kept is None else kept[1].id])
    return profile_functions(self, timing, seed, size, kept)

profiling.Profiler._keep_for = recording_keep_for
profiling.Profiler._profile_functions = recording_profile_functions
report = run.Run(HarnessJob.from_json(json.load(sys.stdin))).execute()
print(json.dumps({"timing": report["timing"], "profiles": report["line_profiles"], "calls": calls}))
"""


def test_the_backward_is_profiled_on_the_last_timed_forward_without_running_it_again(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    loops = ROOT / "submissions" / "examples" / "naive_loops.py"
    (submission / loops.name).write_text(loops.read_text())
    config = GradingConfig(hidden_cases=1, timing=TimingSettings(size="small", budget_s=0.2, min_trials=2,
                                                                 max_trials=4, warmup_s=0.0, pairs=2))
    job = config.harness_job(20261208) | {
        "submission_root": str(submission), "entry": loops.name, "uid_base": None, "isolate_namespaces": False,
        "scratch_parent": str(tmp_path), "timing_lock": None, "hide_paths": []}
    done = subprocess.run([sys.executable, "-c", PROFILE_CHILD], input=json.dumps(job), capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert all(row["measured"] for row in out["timing"])
    kept, *rest = out["calls"]
    assert kept[0] == "kept" and kept[1] == ["cache"] and kept[2].startswith("speed-")
    assert rest == []  # no earlier call run again for the backward's profile
    assert sorted(profile["function"] for profile in out["profiles"]) == ["backward", "forward"]
