"""The command line: exit codes, output formats, summary, help for every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.errors import HarnessProtocolError

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
    assert "unknown rubric groups ['speed_bonus']" in done.stderr


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


def test_every_command_has_help():
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["--help"]).exit_code == 0
    for name, command in cli_module.cli.commands.items():
        result = runner.invoke(cli_module.cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, f"command {name} has no help text"
        assert "Usage:" in result.output


class TruncatedReportSandbox:
    """A sandbox whose harness report lacks most checks: the grader's failure, not a smaller max_score."""
    name = "process"

    def run(self, job):
        from grader.sandbox.base import SandboxRun

        report = {"import": {"ok": True, "message": "", "functions": {}}, "sandboxing": {}, "environment": {},
                  "checks": [{"id": "forward/notebook-forward", "name": "x", "function": "forward",
                              "group": "forward_notebook", "passed": True, "message": ""}],
                  "timing": [{"function": "forward", "measured": False, "case": "c"},
                             {"function": "backward", "measured": False, "case": "c"}]}
        return SandboxRun(report=report, wall_time_s=0.1, backend="process")


def test_an_incomplete_report_is_not_gradable(examples_dir):
    from grader.grade import grade_submission

    result = grade_submission(examples_dir / "fast_strided.py", TruncatedReportSandbox())
    assert not result.gradable and result.failure.kind.value == "grader"
    assert "has 1 checks, not the 37 planned" in result.failure.message
