"""The command line in-process: help for every command, each option declared once, the
config's quiet cases, an assignment folder as one student, and serve without its extra
(the commands run as processes: tests/test_cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.cli import cli
from grader.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def make_class(folder: Path, students: list[str]) -> Path:
    solution = (ROOT / "submissions" / "examples" / "fast_strided.py").read_text()
    folder.mkdir()
    for name in students:
        if name.endswith(".py"):
            (folder / name).write_text(solution)
        else:
            (folder / name / "cs231n").mkdir(parents=True)
            (folder / name / "cs231n" / "layers.py").write_text(solution)
    return folder


def test_every_command_has_help():
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["--help"]).exit_code == 0
    for name, command in cli_module.cli.commands.items():
        result = runner.invoke(cli_module.cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, f"command {name} has no help text"
        assert "Usage:" in result.output


def test_an_assignment_folder_is_one_student(tmp_path):
    from grader.intake.class_folder import submission_like_entries

    folder = make_class(tmp_path / "assignment2", ["cs231n"])
    (folder / "cs231n" / "fast_layers.py").write_text("def conv_forward_fast(x):\n    pass\n")
    (folder / "ConvolutionalNetworks.ipynb").write_text('{"cells": []}')
    assert submission_like_entries(folder) == ["cs231n"]


def test_no_config_warning_for_decimal_points_or_the_defaults():
    from grader.grading.config import GradingConfig, Rubric

    points = {"forward_notebook": 0.1, "forward_hidden": 0.2, "backward_notebook": 0.3, "backward_hidden": 0.7,
              "inputs_unchanged": 0.1}
    assert GradingConfig(rubric=Rubric(points=points)).warnings() == []
    assert GradingConfig().warnings() == []


@pytest.mark.parametrize("command", sorted(cli_module.cli.commands))
def test_every_command_declares_each_option_once(command):
    """Two options of one name (a command's own and a shared decorator's) make click warn
    and the second silently win: `serve` once refused every start that way."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        done = CliRunner().invoke(cli_module.cli, [command, "--help"])
    assert done.exit_code == 0, done.output + repr(done.exception)


@pytest.mark.parametrize("missing", ["uvicorn", "fastapi", "sqlalchemy"])
def test_serve_without_the_service_extra_says_how_to_install_it(missing, tmp_path, monkeypatch):
    """Grading needs none of the service's packages (the Gradescope zip and node image leave them
    out): where they are missing, `serve` is a usage error naming the extra, not a traceback."""
    import uvicorn

    def no_server(*args, **kwargs):  # were the check to let a start through, fail instead of serving forever
        raise AssertionError("serve started a server")

    monkeypatch.setattr(uvicorn, "run", no_server)
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` now fails as if not installed
    for module in [name for name in sys.modules if name.startswith("grader.service.")
                   and name != "grader.service.commands"]:
        monkeypatch.delitem(sys.modules, module)  # imported afresh, so the missing package is met
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nalice,Alice\n")
    result = CliRunner().invoke(cli_module.cli, ["serve", "--data", str(tmp_path / "data"), "--roster", str(roster)])
    assert isinstance(result.exception, UsageError), result.output  # main() makes it exit status 2
    assert "pip install 'convgrade[service]'" in str(result.exception)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_cli_command_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:") and len(cli.commands[name].help or "") > 20


def test_the_summary_tells_staff_when_the_forbidden_call_hook_was_tampered_with(capsys, examples_dir, quick_config):
    from grader.grading.grade import grader_failure_result
    from grader.grading.result import HookTampering, Integrity

    golden = grader_failure_result(examples_dir / "bug_pad_slice.py", "for the summary", quick_config, seed=1)
    integrity = Integrity(forbidden=["scipy"], policy="flag", hook_tampering=[
        HookTampering(function="forward", what="removed", calls=1),
        HookTampering(function="backward", what="replaced", calls=7)])
    cli_module.print_summary(golden.model_copy(update={"integrity": integrity}))
    printed = capsys.readouterr().err.splitlines()
    assert ("  forbidden-call hook tampered with: forward removed after 1 check call, backward replaced after 7 "
            "check calls (staff only: the result's integrity block)") in printed
    cli_module.print_summary(golden.model_copy(update={"integrity": integrity.model_copy(update={"hook_tampering": []})}))
    assert "tampered" not in capsys.readouterr().err
