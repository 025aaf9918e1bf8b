"""Grading a whole class: outputs, resuming, interruption, parallel slots, names, the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import grader.batch.executor as executor
from grader.batch.grade_all import BatchInterrupted, grade_all
from grader.cli import cli
from grader.errors import SandboxTimeout, SandboxUnavailable, UsageError
from grader.grading.grade import grade_submission as real_grade_submission
from grader.publish.leaderboard import pseudonym
from grader.intake.load import submission_id_for
from grader.grading.result import GradeResult
from grader.sandbox import get_sandbox
from scripted_reports import passing_report, scripted_sandbox
from tests.unit.batch.test_grade_all import BROKEN_SOURCE, EXAMPLES, small_class

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
# Sleeps at import: its grading runs until the import timeout, long enough to interrupt.
SLEEPER = ("import time\ntime.sleep(120)\n\n"
           "def conv_forward_naive(x, w, b, conv_param):\n    pass\n\n"
           "def conv_backward_naive(dout, cache):\n    pass\n")
# The ids of the class folder below; distinctive, so a leak in an output is easy to spot.
CLASS_IDS = ["bug_pad_slice", "fast_strided", "student_syntax_error", "unfinished_none", "zipped_layers"]


def make_class(folder: Path) -> Path:
    """Three examples, a file that does not parse, a zip with a cs231n/layers.py, and a .DS_Store."""
    folder.mkdir(parents=True)
    for name in ("fast_strided.py", "bug_pad_slice.py", "unfinished_none.py"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "student_syntax_error.py").write_text(BROKEN_SOURCE)
    with zipfile.ZipFile(folder / "zipped_layers.zip", "w") as archive:
        archive.writestr("assignment2/cs231n/layers.py", (EXAMPLES / "fast_strided.py").read_text())
        archive.writestr("assignment2/README.md", "my conv layers\n")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return folder


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def schema(name: str) -> dict:
    return read_json(SCHEMAS / name)


class Counting:
    """Stands in for grade_submission: counts and records the calls, then delegates."""

    def __init__(self, delegate=real_grade_submission):
        self.delegate = delegate
        self.calls: list[Path] = []
        self.lock = threading.Lock()

    def __call__(self, path, sandbox, config=None, **kwargs):
        with self.lock:
            self.calls.append(Path(path))
        return self.delegate(path, sandbox, config, **kwargs)

    @property
    def names(self) -> list[str]:
        return sorted(path.name for path in self.calls)


def counted(monkeypatch, delegate=real_grade_submission) -> Counting:
    counter = Counting(delegate)
    monkeypatch.setattr(executor, "grade_submission", counter)
    return counter


def stored_result(out: Path):
    """A fake grade_submission returning the stored result: counts a regrade without its cost."""

    def fake(path, sandbox, config=None, **kwargs):
        student_id = submission_id_for(Path(path).stem)
        return GradeResult.model_validate_json((out / "results" / f"{student_id}.json").read_bytes())

    return fake


def ctrl_c(sandbox) -> None:
    """Press Ctrl-C on this process (from a grading, which runs in a worker thread) and wait, as a
    real grading would be stopped, until the batch cancels this grading's sandbox: a real
    interruption, delivered to the main thread. (A bare sleep here would hold the batch's stop,
    which waits for its gradings to end, for as long as it sleeps.)"""
    cancelled = threading.Event()
    cancel = sandbox.cancel

    def cancel_and_tell():
        cancelled.set()
        cancel()

    sandbox.cancel = cancel_and_tell
    os.kill(os.getpid(), signal.SIGINT)
    assert cancelled.wait(30), "the batch never cancelled the interrupted grading"


def harness_children() -> list[int]:
    """Live grader.harness processes whose parent is this test process."""
    return children(os.getpid(), b"grader.harness")


# ----------------------------------------------------------- one real class run


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, quick_config):
    """The class folder graded for real with two parallel slots."""
    base = tmp_path_factory.mktemp("class")
    submissions = make_class(base / "submissions")
    out = base / "out"
    summary = grade_all(submissions, out, sandbox_name="process", config=quick_config, jobs=2, progress=True)
    return submissions, out, summary


@pytest.fixture
def run_copy(first_run, tmp_path):
    """A private copy of the first run's folders, for tests that change them."""
    submissions, out, _ = first_run
    shutil.copytree(submissions, tmp_path / "submissions")
    shutil.copytree(out, tmp_path / "out")
    return tmp_path / "submissions", tmp_path / "out"


def test_first_run_writes_every_output_and_they_validate(first_run):
    submissions, out, summary = first_run
    result_schema = schema("result.schema.json")
    results = {}
    for student_id in CLASS_IDS:
        document = read_json(out / "results" / f"{student_id}.json")
        jsonschema.validate(document, result_schema)
        results[student_id] = GradeResult.model_validate(document)
    assert sorted(p.name for p in (out / "results").iterdir()) == [f"{i}.json" for i in CLASS_IDS]

    board = read_json(out / "leaderboard.json")
    jsonschema.validate(board, schema("leaderboard.schema.json"))
    statuses = {entry["student_id"]: entry["status"] for entry in board["entries"]}
    assert statuses == {
        "fast_strided": "ranked", "zipped_layers": "ranked", "bug_pad_slice": "failed_correctness",
        "unfinished_none": "failed_correctness", "student_syntax_error": "failed_correctness",
    }
    assert results["zipped_layers"].submission.entry == "assignment2/cs231n/layers.py"
    assert "syntax error" in results["student_syntax_error"].failure.message
    assert "| fast\\_strided |" in (out / "leaderboard.md").read_text()
    assert "<table" in (out / "leaderboard.html").read_text()
    csv_lines = (out / "scores.csv").read_text().splitlines()
    assert csv_lines[0] == "student_id,name,score,max_score,submitted_at" and len(csv_lines) == 1 + len(CLASS_IDS)
    assert not (out / "gradescope").exists()  # json format only

    document = read_json(out / "summary.json")
    assert document["counts"] == {"students": 5, "graded": 5, "not_gradable": 0, "skipped": 0,
                                  "interrupted": 0, "not_started": 0}
    assert document["interrupted"] is False and document["jobs"] == 2
    assert document["ignored_entries"] == [{"name": ".DS_Store", "reason": "hidden entry"}]
    assert [s["id"] for s in document["students"]] == CLASS_IDS
    assert document["leaderboard_counts"]["ranked"] == 2
    assert summary.counts == document["counts"]
    # A seed per student, derived from its content, recorded in the result.
    assert len({result.seed for result in results.values()}) == len(CLASS_IDS)


def test_rerun_skips_every_unchanged_student(run_copy, monkeypatch, quick_config):
    submissions, out = run_copy
    calls = counted(monkeypatch)
    board_before = read_json(out / "leaderboard.json")
    summary = grade_all(submissions, out, sandbox_name="process", config=quick_config, jobs=2, progress=False)
    assert calls.calls == []
    assert summary.counts["skipped"] == 5 and summary.counts["graded"] == 0
    board = read_json(out / "leaderboard.json")  # rebuilt from the stored results
    assert [e["student_id"] for e in board["entries"]] == [e["student_id"] for e in board_before["entries"]]


def test_a_changed_submission_is_regraded_alone(run_copy, monkeypatch, quick_config):
    submissions, out = run_copy
    with open(submissions / "fast_strided.py", "a") as source:
        source.write("\n# a late comment\n")
    calls = counted(monkeypatch)
    summary = grade_all(submissions, out, sandbox_name="process", config=quick_config, jobs=2, progress=False)
    assert calls.names == ["fast_strided.py"]
    assert summary.outcome("fast_strided").status == "graded"
    assert summary.counts["skipped"] == 4


def test_force_regrades_everyone(run_copy, monkeypatch, quick_config):
    submissions, out = run_copy
    calls = counted(monkeypatch, stored_result(out))
    grade_all(submissions, out, sandbox_name="process", config=quick_config, jobs=2, force=True, progress=False)
    assert len(calls.calls) == 5


def test_a_new_configuration_regrades_everyone(run_copy, monkeypatch, quick_config):
    submissions, out = run_copy
    calls = counted(monkeypatch, stored_result(out))
    other = quick_config.model_copy(update={"hidden_cases": quick_config.hidden_cases + 1})
    assert other.config_hash() != quick_config.config_hash()
    grade_all(submissions, out, sandbox_name="process", config=other, jobs=2, progress=False)
    assert len(calls.calls) == 5


def test_roster_names_appear_on_the_board(run_copy, quick_config):
    submissions, out = run_copy
    roster = submissions.parent / "roster.csv"
    roster.write_text("\ufeffid,name,email\nfast_strided,Ada Lovelace,ada@example.org\n"
                      "Zipped_Layers,Alan Turing,alan@example.org\n", encoding="utf-8")
    grade_all(submissions, out, sandbox_name="process", config=quick_config, roster=roster, progress=False)
    names = {e["student_id"]: e["student"] for e in read_json(out / "leaderboard.json")["entries"]}
    assert names["fast_strided"] == "Ada Lovelace"
    assert names["zipped_layers"] == "Alan Turing"  # roster ids are normalized like submission ids
    assert names["bug_pad_slice"] == "bug_pad_slice"
    assert "Ada Lovelace" in (out / "leaderboard.md").read_text()


def test_anonymized_board_hides_ids(run_copy, quick_config):
    submissions, out = run_copy
    grade_all(submissions, out, sandbox_name="process", config=quick_config, anonymize=True,
              anonymize_salt="pepper", progress=False)
    board = read_json(out / "leaderboard.json")
    assert sorted(e["student"] for e in board["entries"]) == sorted(pseudonym(i, "pepper") for i in CLASS_IDS)
    assert all(e["student_id"] is None for e in board["entries"])
    for name in ("leaderboard.json", "leaderboard.md", "leaderboard.html"):
        text = (out / name).read_text().replace("\\_", "_")
        for student_id in CLASS_IDS:
            assert student_id not in text, f"{student_id} leaks into {name}"
    assert "fast_strided" in (out / "scores.csv").read_text()  # the gradebook keeps real ids
    with pytest.raises(UsageError, match="salt"):
        grade_all(submissions, out, sandbox_name="process", config=quick_config, anonymize=True, progress=False)


# ------------------------------------------------------------------ failures


class FailingFor:
    """A sandbox that fails like an unreachable Docker engine for one entry file."""

    def __init__(self, entry: str):
        self.entry = entry
        self.inner = get_sandbox("process")
        self.name = self.inner.name

    def run(self, job):
        if job.entry == self.entry:
            raise SandboxUnavailable("Docker engine not reachable (simulated)")
        return self.inner.run(job)


def test_grader_failures_are_recorded_listed_last_and_retried(tmp_path, monkeypatch, quick_config):
    # aaa: the sandbox fails; ccc: the grader raises something unexpected; bbb is fine.
    folder = small_class(tmp_path / "subs", aaa="fast", bbb="broken", ccc="broken")
    out = tmp_path / "out"
    monkeypatch.setattr(executor, "get_sandbox", lambda name: FailingFor("aaa.py"))

    def buggy(path, sandbox, config=None, **kwargs):
        if Path(path).name == "ccc.py":
            raise RuntimeError("a bug in the grader")
        return real_grade_submission(path, sandbox, config, **kwargs)

    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=2,
                        output_format="gradescope", progress=False)
    assert [(s.id, s.status) for s in summary.students] == [
        ("aaa", "not_gradable"), ("bbb", "graded"), ("ccc", "graded")]  # ccc: buggy not patched yet

    calls = counted(monkeypatch, buggy)
    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=2, force=True,
                        output_format="gradescope", progress=False)
    # A grader fault is retried, a bounded number of times (MAX_ATTEMPTS), then recorded.
    assert calls.names == ["aaa.py"] * executor.MAX_ATTEMPTS + ["bbb.py"] + ["ccc.py"] * executor.MAX_ATTEMPTS
    assert summary.counts["not_gradable"] == 2
    for student_id in ("aaa", "ccc"):
        result = GradeResult.model_validate_json((out / "results" / f"{student_id}.json").read_bytes())
        assert result.gradable is False and result.failure.kind.value == "grader"
        assert result.score == 0 and all(check.score == 0 for check in result.checks)
    ccc = read_json(out / "results" / "ccc.json")
    assert "RuntimeError: a bug in the grader" in ccc["failure"]["message"]

    board = read_json(out / "leaderboard.json")
    jsonschema.validate(board, schema("leaderboard.schema.json"))
    assert [(e["student_id"], e["status"]) for e in board["entries"]] == [
        ("bbb", "failed_correctness"), ("aaa", "not_gradable"), ("ccc", "not_gradable")]
    assert "aaa,,,100," in (out / "scores.csv").read_text()  # an empty score, never a zero
    assert (out / "gradescope" / "bbb" / "results.json").is_file()
    assert not (out / "gradescope" / "aaa").exists()
    assert not (out / "gradescope" / "ccc" / "results.json").exists()  # the first run's file was removed

    # A re-run retries the grader's failures only: bbb's stored result is good.
    calls = counted(monkeypatch)
    grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=2, progress=False)
    assert calls.names == ["aaa.py"] * executor.MAX_ATTEMPTS + ["ccc.py"]


class LeavesScratch:
    """A sandbox saying it could not remove files of aaa.py's run, and failing ccc.py's run with
    files left (what a plain user's cleanup reports: tree_removal). Its runs are scripted (every
    check passes): what is tested is the batch's bookkeeping of what was left, not a grading."""

    LEFT = ("1 entry of the scratch could not be removed", "/tmp/convgrade-run-a/student/locked (Permission denied)")

    def __init__(self, config):
        self.inner = scripted_sandbox(config)
        self.name = self.inner.name

    def run(self, job):
        if job.entry == "ccc.py":
            error = SandboxTimeout("process: the harness gave no report within 90 s (simulated)")
            error.scratch_left = self.LEFT
            raise error
        run = self.inner.run(job)
        return dataclasses.replace(run, scratch_left=self.LEFT) if job.entry == "aaa.py" else run

    def cancel(self):
        self.inner.cancel()

    def close(self):
        self.inner.close()


def test_files_a_grading_could_not_remove_are_in_the_summary(tmp_path, monkeypatch, quick_config):
    unfinished = "def conv_forward_naive(*args):\n    return None\n\n\ndef conv_backward_naive(*args):\n    return None\n"
    folder = small_class(tmp_path / "subs", aaa=unfinished, bbb=unfinished, ccc=unfinished)
    out = tmp_path / "out"
    monkeypatch.setattr(executor, "get_sandbox", lambda name: LeavesScratch(quick_config))
    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=1, progress=False)
    assert [(s.id, s.status, s.scratch_left) for s in summary.students] == [
        ("aaa", "graded", list(LeavesScratch.LEFT)), ("bbb", "graded", []),
        ("ccc", "not_gradable", list(LeavesScratch.LEFT))]
    note = ("2 gradings left files the grader could not remove (on the grading host; paths in each student's "
            "scratch_left): aaa (1 entry of the scratch could not be removed), ccc (1 entry")
    assert any(n.startswith(note) for n in summary.notes), summary.notes
    written = read_json(out / "summary.json")
    assert written["notes"] == summary.notes and written["students"][0]["scratch_left"] == list(LeavesScratch.LEFT)
    stored = read_json(out / "results" / "aaa.json")
    assert stored["environment"]["scratch_left"] == list(LeavesScratch.LEFT)
    assert "the grader could not remove its scratch: 1 entry" in read_json(out / "results" / "ccc.json")["failure"][
        "message"]


def test_an_interrupted_batch_keeps_what_it_finished_and_resumes(tmp_path, monkeypatch, quick_config):
    folder = small_class(tmp_path / "subs", a_broken="broken", b_fast="fast", c_fast="fast")
    out = tmp_path / "out"

    def interrupt_on_second(path, sandbox, config=None, **kwargs):
        if len(calls.calls) == 2:
            deadline = time.monotonic() + 30  # Ctrl-C once the first result is on disk
            while not (out / "results" / "a_broken.json").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            ctrl_c(sandbox)
        return real_grade_submission(path, sandbox, config, **kwargs)

    calls = counted(monkeypatch, interrupt_on_second)
    with pytest.raises(BatchInterrupted) as caught:
        grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=1, progress=False)
    statuses = {s.id: s.status for s in caught.value.summary.students}
    assert statuses["a_broken"] == "graded" and statuses["b_fast"] == "interrupted"
    assert statuses["c_fast"] in ("interrupted", "not_started")
    assert sorted(p.name for p in (out / "results").iterdir()) == ["a_broken.json"]
    document = read_json(out / "summary.json")
    assert document["interrupted"] is True and document["counts"]["graded"] == 1
    assert not (out / "leaderboard.json").exists()  # no board from half a class
    assert harness_children() == []

    calls = counted(monkeypatch)
    summary = grade_all(folder, out, sandbox_name="process", config=quick_config, jobs=2, progress=False)
    assert calls.names == ["b_fast.py", "c_fast.py"]
    assert [s.status for s in summary.students] == ["skipped", "graded", "graded"]
    assert read_json(out / "leaderboard.json")["counts"]["ranked"] == 2


def test_each_grading_has_a_core_of_its_own(tmp_path, monkeypatch, quick_config):
    folder = small_class(tmp_path / "subs", **{f"s{i}": "broken" for i in range(6)})
    usable = os.sched_getaffinity(0)
    running: dict[int, str] = {}
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def pinned(path, sandbox, config=None, *, placement, **kwargs):
        cpu, slot = placement.cpu, placement.slot
        with lock:
            assert cpu not in running, f"{path.name} and {running.get(cpu)} share core {cpu}"
            running[cpu] = path.name
            seen.append((cpu, slot))
        time.sleep(0.2)
        with lock:
            del running[cpu]
        return real_grade_submission(path, sandbox, config, placement=placement, **kwargs)

    monkeypatch.setattr(executor, "grade_submission", pinned)
    summary = grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config,
                        jobs=len(usable) + 5, progress=False)
    assert summary.counts["graded"] == 6
    assert summary.jobs == len(usable) and any("lowered" in note for note in summary.notes)
    assert {cpu for cpu, _ in seen} <= usable
    assert len({cpu for cpu, _ in seen}) == min(len(usable), 6)
    assert {slot for _, slot in seen} == set(range(len(usable)))
    with pytest.raises(UsageError, match="at least 1"):
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=0, progress=False)


@pytest.mark.parametrize("exclusive", [pytest.param(False, id="default"), pytest.param(True, id="exclusive")])
def test_exclusive_timing_shares_one_lock_folder_across_the_batch(tmp_path, quick_config, monkeypatch, exclusive):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two usable cores for two jobs")
    folder = small_class(tmp_path / "subs", a="fast", b="fast")
    locks = []
    real_grade_submission = executor.grade_submission
    # The lock folder is made, shared and removed by the batch; scripted runs leave that visible
    # without timing two live gradings one after the other (25 s of the exclusive case).
    monkeypatch.setattr(executor, "get_sandbox", lambda name: scripted_sandbox(quick_config))

    def recording(path, sandbox, config=None, **kwargs):
        lock = kwargs["placement"].timing_lock
        locks.append(lock)
        if lock is not None:
            assert lock.is_dir() and lock.stat().st_mode & 0o077 == 0
        return real_grade_submission(path, sandbox, config, **kwargs)

    monkeypatch.setattr(executor, "grade_submission", recording)
    summary = grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=2,
                        progress=False, exclusive_timing=exclusive)
    assert summary.counts["graded"] == 2
    if exclusive:
        assert len(set(locks)) == 1 and locks[0] is not None
        assert not locks[0].exists()  # removed with the batch
    else:
        assert locks == [None, None]


# ----------------------------------------------------------------------- CLI


def quick_config_file(path: Path, quick_config) -> Path:
    path.write_text(quick_config.model_dump_json())
    return path


def test_cli_grade_all_end_to_end(tmp_path, quick_config):
    folder = small_class(tmp_path / "subs", alpha="fast", beta="broken")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nalpha,Grace Hopper\n")
    out = tmp_path / "out"
    args = ["grade-all", str(folder), "--out", str(out), "--config", str(quick_config_file(tmp_path / "c.json",
            quick_config)), "--jobs", "1", "--format", "gradescope", "--roster", str(roster), "--seed", "7"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "[2/2]" in result.output and "2 students: 2 graded" in result.output
    assert read_json(out / "results" / "alpha.json")["seed"] == 7
    assert read_json(out / "gradescope" / "alpha" / "results.json")["score"] == 100
    assert read_json(out / "leaderboard.json")["entries"][0]["student"] == "Grace Hopper"

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "0 graded, 2 unchanged" in again.output

    usage = CliRunner().invoke(cli, ["grade-all", str(folder), "--out", str(out), "--anonymize"])
    assert usage.exit_code != 0 and "salt" in str(usage.exception)


@pytest.mark.parametrize("signum", [pytest.param(signal.SIGINT, id="ctrl-c"), pytest.param(signal.SIGTERM, id="sigterm")])
def test_an_interrupted_cli_kills_its_gradings_and_exits_130(tmp_path, quick_config, signum):
    folder = small_class(tmp_path / "subs", a="fast", b=SLEEPER, c=SLEEPER, d=SLEEPER)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade-all", str(folder), "--out", str(out), "--jobs", "2",
               "--config", str(quick_config_file(tmp_path / "c.json", quick_config))]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (out / "results" / "a.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / "results" / "a.json").exists(), "the fast student was never graded"
        # A harness may wait on the batch's timing lock before it starts its workers.
        harnesses, workers = [], []
        while not workers and time.monotonic() < deadline:
            harnesses = children(process.pid, b"grader.harness")
            workers = [pid for harness in harnesses for pid in children(harness)]
            time.sleep(0.1)
        assert harnesses, "expected gradings in progress"
        assert workers, "expected the harnesses' workers to be running"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    for pid in harnesses + workers:
        assert not alive(pid), f"process {pid} survived the interruption"
    document = read_json(out / "summary.json")
    assert document["interrupted"] is True
    assert {s["id"]: s["status"] for s in document["students"]}["a"] == "graded"
    assert sorted(p.name for p in (out / "results").iterdir()) == ["a.json"]


def children(parent: int, command: bytes | None = None) -> list[int]:
    """Live processes whose parent is ``parent`` (and whose argv holds ``command``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat[1]) == parent and stat[0] != b"Z" and (command is None or command in argv):
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


@pytest.mark.docker
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores for two slots")
def test_docker_interruption_removes_this_batchs_containers(tmp_path, monkeypatch, quick_config, docker_client):
    from grader.sandbox.docker import LABEL, RUN_LABEL

    folder = small_class(tmp_path / "subs", a_sleeper=SLEEPER, b_trigger="broken")
    boxes = []

    def recording_get_sandbox(name):
        boxes.append(get_sandbox(name))
        return boxes[-1]

    def containers(run_id: str, **filters):
        return docker_client.containers.list(all=True, filters={"label": [f"{LABEL}=1", f"{RUN_LABEL}={run_id}"],
                                                                **filters})

    running: list[str] = []

    def interrupt_once_the_sleeper_runs(path, sandbox, config=None, **kwargs):
        if Path(path).name != "b_trigger.py":
            return real_grade_submission(path, sandbox, config, **kwargs)
        deadline = time.monotonic() + 300  # the first docker grading may build the image
        while not running and time.monotonic() < deadline:
            running.extend(box.last_run_id for box in boxes
                           if box.last_run_id and containers(box.last_run_id, status="running"))
            time.sleep(0.2)
        ctrl_c(sandbox)

    monkeypatch.setattr(executor, "get_sandbox", recording_get_sandbox)
    monkeypatch.setattr(executor, "grade_submission", interrupt_once_the_sleeper_runs)
    started = time.monotonic()
    with pytest.raises(BatchInterrupted) as caught:
        grade_all(folder, tmp_path / "out", sandbox_name="docker", config=quick_config, jobs=2, progress=False)
    assert running, "the sleeper's container never ran"
    assert time.monotonic() - started < 200
    assert all(containers(run_id) == [] for run_id in running)
    assert {s.id: s.status for s in caught.value.summary.students}["a_sleeper"] == "interrupted"
    assert not (tmp_path / "out" / "results" / "a_sleeper.json").exists()


def test_a_folder_too_large_to_hand_over_is_refused_and_the_batch_goes_on(tmp_path, quick_config, monkeypatch):
    """A student folder that still holds a dataset (here a sparse 70 MiB file) is over what a
    grading task may carry: that student gets the loader-style refusal, the others are graded,
    and the leaderboard is written. A FIFO in another student's folder is left out, as the
    loader leaves it out, and that student is graded as usual."""
    folder = small_class(tmp_path / "subs", a="fast")
    big = folder / "big"
    big.mkdir()
    (big / "layers.py").write_text((EXAMPLES / "fast_strided.py").read_text())
    with open(big / "cifar.bin", "wb") as data:
        data.truncate(70 * 2**20)
    piped = folder / "piped"
    piped.mkdir()
    (piped / "layers.py").write_text((EXAMPLES / "fast_strided.py").read_text())
    os.mkfifo(piped / "notes.fifo")
    # Refusing the task and leaving the FIFO out are the host's work: the runs are scripted.
    monkeypatch.setattr(executor, "get_sandbox", lambda name: scripted_sandbox(quick_config))
    summary = grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=1, progress=False)
    assert {s.id: s.status for s in summary.students} == {"a": "graded", "big": "graded", "piped": "graded"}
    big_result = GradeResult.model_validate_json((tmp_path / "out" / "results" / "big.json").read_bytes())
    assert big_result.gradable and big_result.score == 0
    assert "over the 64 MiB a grading task may carry" in big_result.failure.message
    assert "leave datasets and checkpoints out" in big_result.failure.message
    piped_result = GradeResult.model_validate_json((tmp_path / "out" / "results" / "piped.json").read_bytes())
    assert piped_result.score == pytest.approx(100.0)
    assert (tmp_path / "out" / "leaderboard.json").exists()


def test_stopping_a_batch_cancels_the_running_sandbox_run_and_closes_the_sandboxes(tmp_path, monkeypatch,
                                                                                     quick_config):
    """Through the Sandbox interface alone: the executor cancels the run in progress (it
    would otherwise block until its deadline) and closes every slot's sandbox, and the
    batch keeps the result that was finished and records the cancelled student as interrupted."""
    from grader.sandbox.fake import FakeSandbox

    folder = small_class(tmp_path / "subs", a_done="fast", b_blocks="fast")
    sandbox = FakeSandbox(default=lambda job: (FakeSandbox.UNTIL_CANCELLED if job.submission_root.name.startswith("b_")
                                               else passing_report(quick_config)))
    monkeypatch.setattr(executor, "get_sandbox", lambda name: sandbox)

    def press_ctrl_c_once_b_runs():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sandbox.running and any(job.submission_root.name.startswith("b_") for job in sandbox.jobs):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    pressing = threading.Thread(target=press_ctrl_c_once_b_runs, daemon=True)
    pressing.start()
    with pytest.raises(BatchInterrupted) as caught:
        grade_all(folder, tmp_path / "out", sandbox_name="process", config=quick_config, jobs=1, progress=False)
    pressing.join(timeout=5)
    statuses = {s.id: s.status for s in caught.value.summary.students}
    assert statuses["b_blocks"] == "interrupted"
    # cancel() ended the blocked run while the batch stopped; close() came after, at shutdown.
    assert "cancel" in sandbox.calls and sandbox.cancelled_runs == 1, sandbox.calls
    assert sandbox.calls.index("cancel") < sandbox.calls.index("close") and sandbox.calls[-1] == "close"
    assert sandbox.running == 0 and sandbox.closed
    assert not (tmp_path / "out" / "results" / "b_blocks.json").exists()
    if statuses["a_done"] == "graded":  # graded before b's run began (Dask may order them either way)
        assert read_json(tmp_path / "out" / "results" / "a_done.json")["score"] > 0
