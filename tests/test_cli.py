"""The command line: exit codes, output formats, summary, help for every command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.errors import HarnessProtocolError
from scripted_reports import scripted_sandbox
from tests.unit.test_cli import make_class

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, **kwargs)


@pytest.fixture
def quick_config_file(tmp_path, quick_config) -> Path:
    path = tmp_path / "quick.json"
    path.write_text(quick_config.model_dump_json())
    return path


def test_grade_writes_json_and_summary(tmp_path, examples_dir, quick_config_file):
    out = tmp_path / "result.json"
    done = run_cli("grade", str(examples_dir / "bug_pad_slice.py"), "--config", str(quick_config_file),
                   "--seed", "5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    result = json.loads(out.read_text())
    assert result["submission"]["id"] == "bug_pad_slice"
    assert result["seed"] == 5
    assert done.stderr.startswith(f"bug_pad_slice: {result['score']:g}/100")
    assert "FAILED conv_backward_naive dx" in done.stderr


def test_grade_gradescope_format(examples_dir, quick_config_file):
    done = run_cli("grade", str(examples_dir / "fast_strided.py"), "--config", str(quick_config_file),
                   "--format", "gradescope")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["score"] == 100
    assert {t["status"] for t in document["tests"]} == {"passed"}
    assert set(document["tests"][0]) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
    assert [entry["name"] for entry in document["leaderboard"]] == ["forward speedup", "backward speedup"]
    assert all(entry["value"] > 0 and entry["order"] == "desc" for entry in document["leaderboard"])
    assert isinstance(document["execution_time"], int)
    # The interval is labelled with its real level, not a fixed "95% CI" (issue 14).
    assert "95% CI" not in document["output"]
    assert re.search(r"forward: [\d.]+x the reference's speed \([\d.]+% interval [\d.]+-[\d.]+\); "
                     r"[\d.]+ GFLOP/s, [\d.]+% of this core's peak, \d+ trials",
                     document["output"]), document["output"][:500]


@pytest.mark.parametrize("args, message", [
    pytest.param(["grade", "no/such/file.py"], "does not exist", id="missing-submission"),
    pytest.param(["grade", "submissions/examples/fast_strided.py", "--sandbox", "vm"], "'vm' is not one of",
                 id="unknown-sandbox"),
    pytest.param(["grade", "submissions/examples/fast_strided.py", "--format", "xml"], "'xml' is not one of",
                 id="unknown-format"),
    pytest.param(["frobnicate"], "No such command", id="unknown-command"),
])
def test_usage_errors_exit_2(args, message):
    done = run_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr


def test_invalid_config_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rubric": {"points": {"speed_bonus": 5}}}))
    done = run_cli("grade", "submissions/examples/fast_strided.py", "--config", str(bad))
    assert done.returncode == 2
    assert "rubric.points.speed_bonus: unknown rubric group (known: forward_notebook, " in done.stderr


class BrokenSandbox:
    name = "process"

    def run(self, job):
        raise HarnessProtocolError("process: harness exited with -9")


def test_grader_failure_exits_1_and_is_not_a_zero(monkeypatch, tmp_path, examples_dir):
    monkeypatch.setattr(cli_module, "get_sandbox", lambda name: BrokenSandbox())
    out = tmp_path / "r.json"
    result = CliRunner().invoke(cli_module.cli, ["grade", str(examples_dir / "fast_strided.py"), "--out", str(out)])
    assert result.exit_code != 0
    assert isinstance(result.exception, cli_module.GraderError)
    document = json.loads(out.read_text())
    assert document["gradable"] is False
    assert document["failure"]["kind"] == "grader"
    assert "harness exited with -9" in document["failure"]["message"]
    # Gradescope has no "not gradable": nothing is written, the run fails visibly.
    gradescope_out = tmp_path / "gs.json"
    result = CliRunner().invoke(cli_module.cli, ["grade", str(examples_dir / "fast_strided.py"),
                                                 "--format", "gradescope", "--out", str(gradescope_out)])
    assert result.exit_code != 0 and not gradescope_out.exists()


def test_main_maps_grader_failure_to_exit_1(monkeypatch, examples_dir):
    monkeypatch.setattr(cli_module, "get_sandbox", lambda name: BrokenSandbox())
    monkeypatch.setattr(sys, "argv", ["convgrade", "grade", str(examples_dir / "fast_strided.py")])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 1


class TruncatedReportSandbox:
    """A sandbox whose harness report lacks most checks: the grader's failure, not a smaller max_score."""
    name = "process"

    def run(self, job):
        from grader.sandbox.base import SandboxRun

        report = {"import": {"ok": True, "message": "", "functions": {}}, "sandboxing": {}, "environment": {},
                  "checks": [{"id": "forward/notebook-forward", "name": "x", "call": "forward",
                              "function": "conv_forward_naive", "layer": "cs231n-conv", "group": "forward_notebook", "passed": True, "message": ""}],
                  "timing": [{"call": "forward", "function": "conv_forward_naive", "layer": "cs231n-conv",
                              "measured": False, "case": "c"},
                             {"call": "backward", "function": "conv_backward_naive", "layer": "cs231n-conv",
                              "measured": False, "case": "c"}]}
        return SandboxRun(report=report, wall_time_s=0.1, backend="process")


def test_an_incomplete_report_is_not_gradable(examples_dir):
    from grader.grading.grade import grade_submission

    result = grade_submission(examples_dir / "fast_strided.py", TruncatedReportSandbox())
    assert not result.gradable and result.failure.kind.value == "grader"
    assert "has 1 checks, not the 37 planned" in result.failure.message


# -- issue 14: first contact ---------------------------------------------------------------------


def test_make_grade_redirected_is_pure_json(tmp_path, quick_config_file, monkeypatch):
    """`make grade ... > r.json` from a shell must give valid JSON: make echoes nothing onto
    stdout. (Under `make test` this make would be a sub-make, which prints "Entering
    directory" before it reads the Makefile; a shell has no MAKELEVEL.)"""
    for variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        monkeypatch.delenv(variable, raising=False)
    venv = Path(sys.prefix)
    if not (venv / ".installed").exists():
        pytest.skip(f"the tests do not run in an environment made by `make venv` ({venv})")
    out = tmp_path / "r.json"
    with open(out, "w") as stdout:
        done = subprocess.run(["make", "grade", "SUBMISSION=submissions/examples/bug_pad_slice.py",
                               f"CONFIG={quick_config_file}", f"VENV={venv}"], cwd=ROOT, stdout=stdout,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["submission"]["id"] == "bug_pad_slice"
    assert "bug_pad_slice: " in done.stderr


def run_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """The CLI with its standard output on a pseudo-terminal (as a person runs it)."""
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "grader", *args], stdout=follower, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=300)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    return done.returncode, shown.decode(), done.stderr


def test_on_a_terminal_a_readable_summary_replaces_the_json(quick_config_file, examples_dir):
    code, stdout, stderr = run_on_a_terminal("grade", str(examples_dir / "fast_strided.py"),
                                             "--config", str(quick_config_file))
    assert code == 0, stderr
    assert "{" not in stdout and len(stdout) < 200, stdout[:500]
    lines = stderr.splitlines()
    assert "fast_strided: 100/100" in lines
    # The groups in the order the result lists its checks (as /me and Gradescope show them).
    assert ("  points: forward_notebook 10/10, backward_notebook 10/10, forward_hidden 30/30, backward_hidden 40/40, "
            "inputs_unchanged 10/10") in lines
    assert any(re.fullmatch(r"  forward: (\d[\d.]*x the reference's speed \([\d.]+% interval [\d.]+-[\d.]+\)"
                            r"|\d+x slower than the reference \([\d.]+% interval [\d.]+-[\d.]+x slower\))"
                            r"; [\d.]+ GFLOP/s, [\d.]+% of this core's peak", line)
               for line in lines), lines
    assert "not printed on a terminal: add --out result.json, or redirect: > result.json" in stderr


def test_the_summary_line_says_what_the_speed_is_against(tmp_path, examples_dir, quick_config_file):
    done = run_cli("grade", str(examples_dir / "naive_loops.py"), "--config", str(quick_config_file),
                   "--out", str(tmp_path / "r.json"))
    lines = done.stderr.splitlines()
    assert "naive_loops: 100/100" in lines, done.stderr
    assert re.search(r"forward: .*(the reference's speed|slower than the reference) \([\d.]+% interval ", done.stderr)
    assert "[" not in lines[lines.index("naive_loops: 100/100") + 1]


def test_grade_refuses_a_folder_that_looks_like_a_class(tmp_path):
    folder = make_class(tmp_path / "class1", ["alice.py", "bob", "carol.py", "dave"])
    done = run_cli("grade", str(folder))
    assert done.returncode == 2
    assert done.stdout == ""
    assert (f"error: {folder} looks like a class, not one student: 4 of its entries each hold a submission "
            f"(alice.py, bob, carol.py, dave). Grade them with `convgrade grade-all {folder} --out OUT`") in done.stderr


def test_grade_warns_about_two_submissions_and_prints_every_loader_note(tmp_path, quick_config_file):
    folder = make_class(tmp_path / "alice", ["layers.py", "layers_backup.py"])
    done = run_cli("grade", str(folder), "--config", str(quick_config_file), "--out", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    assert ("warning: 2 entries of " + str(folder) + " each hold a submission (layers.py, layers_backup.py); "
            "grading them as ONE student") in done.stderr
    notes = json.loads((tmp_path / "r.json").read_text())["notes"]
    assert notes and all(f"  note: {note}" in done.stderr.splitlines() for note in notes)
    assert "  note: 1 other file also defines conv_forward_naive and conv_backward_naive; using layers.py" in \
        done.stderr.splitlines()


def test_one_student_flag_grades_a_class_like_folder(tmp_path, quick_config_file):
    folder = make_class(tmp_path / "mine", ["a.py", "b.py", "c.py"])
    done = run_cli("grade", str(folder), "--one-student", "--config", str(quick_config_file),
                   "--out", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    assert "\nmine: 100/100\n" in done.stderr


# -- issue 14, item 13: configuration errors and warnings --------------------------------------------


def test_config_errors_are_one_line_each_with_did_you_mean(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "rubric": {"points": {"forward_hiden": 3, "inputs_unchanged": -1}, "hidden_visiblity": "hidden",
                   "speed": {"enabled": True, "points": 5, "thresholds": [[0.1, 2]]}},
        "limits": {"memory_bytes": 1000},
        "timing": {"min_trials": 5, "max_trials": 2},
    }))
    done = run_cli("grade", "submissions/examples/fast_strided.py", "--config", str(bad))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"error: config file {bad} has 6 problems:"
    assert lines[1:] == [
        "  rubric.points.forward_hiden: unknown rubric group; did you mean 'forward_hidden'? (known: forward_notebook, "
        "forward_hidden, backward_notebook, backward_hidden, inputs_unchanged)",
        "  rubric.hidden_visiblity: unknown option; did you mean 'hidden_visibility'? (known: points, tolerance, "
        "speed, hidden_visibility, layers)",
        "  rubric.points: inputs_unchanged is -1: points must be >= 0",
        "  rubric.speed.thresholds: threshold (0.1, 2.0): speedup must be > 0 and fraction in [0, 1]",
        "  limits.memory_bytes: Input should be greater than or equal to 67108864 (got 1000)",
        "  timing: max_trials 2 is below min_trials 5",
    ]


def test_config_that_is_not_json_says_where(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rubric": {"points": {,}}}')
    done = run_cli("grade", "submissions/examples/fast_strided.py", "--config", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: config file {bad} is not valid JSON at line 1, column 24: "
                                   "Expecting property name enclosed in double quotes")


@pytest.mark.parametrize("speed, warning", [
    pytest.param({"enabled": True}, "rubric.speed.enabled is true but rubric.speed.points is 0: speed earns nothing",
                 id="enabled-without-points"),
    pytest.param({"enabled": True, "points": 5, "thresholds": [[0.5, 1.0]]},
                 "the maximum score is 110, not the 100 the rubric groups add up to: speed adds 5 points for each of "
                 "the pack's 2 timed calls", id="speed-raises-the-maximum"),
    pytest.param({"points": 5}, "rubric.speed.points is 5 but rubric.speed.enabled is false: speed earns nothing",
                 id="points-without-enabled"),
])
def test_config_warnings(tmp_path, speed, warning, quick_config, monkeypatch):
    from grader.grading.config import GradingConfig

    path = tmp_path / "c.json"
    document = quick_config.model_dump(mode="json")
    document["rubric"]["speed"] = speed
    path.write_text(json.dumps(document))
    assert GradingConfig.load(path).warnings() == [warning]
    # The warning is the command's own work: the run under it is scripted, the command in-process.
    monkeypatch.setattr(cli_module, "get_sandbox", lambda name: scripted_sandbox(quick_config))
    done = CliRunner().invoke(cli_module.cli, ["grade", str(ROOT / "submissions" / "examples" / "unfinished_none.py"),
                                               "--config", str(path), "--out", str(tmp_path / "r.json")])
    assert done.exit_code == 0, done.output
    assert f"warning: config: {warning}" in done.stderr.splitlines()


def test_the_staff_page_documents_every_config_option():
    from pydantic import BaseModel

    from grader.grading.config import GradingConfig

    page = (ROOT / "docs" / "course-staff.md").read_text()
    start = page.index("## Configuration")
    section = page[start:page.index("\n## ", start + 1)]

    def options(model: type[BaseModel], prefix: str = "") -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found += options(annotation, f"{prefix}{name}.")
            else:
                found.append(f"{prefix}{name}")
        return found

    missing = [option for option in options(GradingConfig) if f"`{option}`" not in section]
    assert not missing, f"undocumented config options: {missing}"


def test_a_class_refusal_escapes_the_students_file_names(tmp_path):
    """Entry names are the students' own: an escape sequence in one must not act on the terminal."""
    folder = tmp_path / "class"
    folder.mkdir()
    source = (Path(__file__).resolve().parents[1] / "submissions" / "examples" / "fast_strided.py").read_text()
    for name in ("a.py", "b.py", "\x1b[2Jevil.py"):
        (folder / name).write_text(source)
    done = run_cli("grade", str(folder))
    assert done.returncode == 2, done.stderr
    assert "\x1b" not in done.stderr and "\\x1b[2Jevil.py" in done.stderr, done.stderr
