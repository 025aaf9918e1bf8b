"""Assignment packs: every registered pack declares what the grader reads from it, the
configuration is checked against the pack it names, --assignment reaches every command
that grades or ranks, and no convolution word lives outside the packs' folder (what a child
Python imports: tests/test_packs.py)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.grading.config import GradingConfig
from grader.errors import UsageError
from grader.harness import assignments

ROOT = Path(__file__).resolve().parents[3]
PACKS_DIR = ROOT / "grader" / "harness" / "assignments"


@pytest.mark.parametrize("name", sorted(assignments.PACKS))
def test_every_pack_declares_what_the_grader_reads(name):
    pack = assignments.get(name)
    missing = [attribute for attribute in assignments.PACK_NAMES if not hasattr(pack, attribute)]
    assert missing == [], f"{name} lacks {missing}"
    assert pack.NAME == name
    calls = [call.name for call in pack.CALLS]
    # Call names are the pack's own: the host reads them from CALLS and STUDENT_FUNCTIONS, so
    # each names one student function and one reference, and none is "all" (the name of the
    # checks that cover every call).
    assert list(pack.STUDENT_FUNCTIONS) == list(pack.REFERENCE_FUNCTIONS) == calls
    assert len(set(calls)) == len(calls) and "all" not in calls and all(c.isidentifier() for c in calls)
    for call in pack.CALLS:  # what a call needs, an earlier call keeps; a worker keeps one value per call
        assert len(call.kept) <= 1 and set(call.needs) <= set(pack.STAND_INS)
        assert all(any(label in earlier.kept for earlier in pack.CALLS[:calls.index(call.name)]) for label in call.needs)
    assert (ROOT / pack.REFERENCE_ENTRY).is_file()
    plan = pack.check_plan(len(pack.HIDDEN_SHAPES))
    assert {check["group"] for check in plan} == set(pack.DEFAULT_RUBRIC["points"])
    assert len({check["id"] for check in plan}) == len(plan)
    # Every check says which call, student function and layer it exercised (result schema 2.0).
    for check in plan:
        assert check["layer"] == name
        if check["call"] == "all":
            assert check["function"] == ", ".join(dict.fromkeys(pack.STUDENT_FUNCTIONS.values()))
            assert check["group"] in pack.PROPERTY_GROUPS
        else:
            assert check["function"] == pack.STUDENT_FUNCTIONS[check["call"]]
            assert check["group"].startswith(check["call"] + "_") and check["id"].startswith(check["call"] + "/")
    assert pack.INPUTS_CHECK in plan
    assert all(set(covered) <= set(calls) for covered in pack.PROPERTY_GROUPS.values())
    for size in ("speed-cell", "small"):
        assert all(pack.timed_flops(call, size) > 0 for call in calls)
        assert all(d >= 1 for d in pack.same_shape_gemm(size))
        case = pack.speed_case(np.random.default_rng(0), 0, size)
        expected = pack.expected_outputs(case)
        # The reference runs at every timed size, and gives every sent result (a loss is 0-d).
        for call in pack.CALLS:  # by label, or by (call, label) where calls share one
            assert all(label in expected or (call.name, label) in expected for label in call.sent)
        assert all(isinstance(value, np.ndarray) or all(isinstance(one, np.ndarray) for one in value)
                   for value in expected.values())  # a tuple: every accepted answer
    # The notebook's and the hidden cases run through the reference, each with a place in the plan.
    cases = pack.notebook_cases() + pack.hidden_cases(3, len(pack.HIDDEN_SHAPES))
    ids = {check["id"].split("/")[1] for check in plan if "/" in check["id"]}
    assert {case.id for case in cases} == ids
    for case in cases:
        # By label, or by (call, label) where calls of a case share a label (batchnorm's three forwards).
        expected = pack.expected_outputs(case)
        assert all((call.name, label) in expected or label in expected for call in pack.CALLS for label in call.graded)
        assert set(case.graded) <= set(case.calls) and [c for c in calls if c in case.calls] == list(dict.fromkeys(case.calls))  # a call may repeat
    # The starter template (similarity's boilerplate) is the student's functions, as given out.
    starter = [node.name for node in ast.parse(pack.STARTER_TEMPLATE).body if isinstance(node, ast.FunctionDef)]
    assert starter == list(dict.fromkeys(pack.STUDENT_FUNCTIONS.values()))  # one function may serve several calls
    if pack.KIT is not None:  # the student kit's folder, with what grader/kit/build.py packages
        kit = assignments.kit(pack)
        sources = Path(kit.__file__).parent
        assert all((sources / name).is_file() for name in (kit.RUNNER, kit.README, *kit.MODULES))
        assert [case.id for case in kit.public_cases()][:2] == ["notebook-forward", "notebook-backward"]


def test_the_registry_refuses_an_unknown_assignment():
    # The list of known names grows with every pack: check it is every pack and bundle, sorted.
    with pytest.raises(assignments.UnknownAssignment, match="known: " + re.escape(", ".join(sorted(assignments.names())))):
        assignments.get("cs231n-no-such-layer")
    assert assignments.sandbox_packages() == {}  # no pack needs more than numpy


def test_a_pack_without_its_packages_is_not_graded(monkeypatch):
    pack = assignments.get("cs231n-maxpool")
    monkeypatch.setattr(pack, "SANDBOX_PACKAGES", {"numpy": "0.0.1", "no-such-distribution": "1.0"})
    missing = assignments.missing_packages(pack)
    assert missing[0].startswith("numpy==0.0.1 (found ") and missing[1] == "no-such-distribution==1.0"


def test_config_takes_its_defaults_from_the_named_pack(tmp_path):
    maxpool = GradingConfig(assignment="cs231n-maxpool")
    assert maxpool.rubric.points == assignments.get("cs231n-maxpool").DEFAULT_RUBRIC["points"]
    assert GradingConfig().rubric.points == assignments.get("cs231n-conv").DEFAULT_RUBRIC["points"]
    assert maxpool.config_hash() != GradingConfig().config_hash()
    # A file's partial rubric is completed from its own pack.
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps({"assignment": "cs231n-maxpool", "rubric": {"points": {"forward_hidden": 40}}}))
    config = GradingConfig.load(path)
    assert config.rubric.points["forward_hidden"] == 40 and config.rubric.points["backward_hidden"] == 35
    # --assignment must agree with the file, and names a registered pack.
    with pytest.raises(UsageError, match="is for assignment 'cs231n-maxpool', but --assignment says 'cs231n-conv'"):
        GradingConfig.load(path, "cs231n-conv")
    path.write_text(json.dumps({"assignment": "cs231n-no-such-layer"}))
    with pytest.raises(UsageError, match="unknown assignment 'cs231n-no-such-layer'"):
        GradingConfig.load(path)


@pytest.mark.parametrize("command", ["grade", "grade-all", "leaderboard"])
def test_assignment_option_on_every_grading_and_ranking_command(command):
    result = CliRunner().invoke(cli_module.cli, [command, "--help"])
    assert result.exit_code == 0 and "--assignment" in result.output and assignments.DEFAULT in result.output


# The convolution assignment's own words. "conv" alone is matched as a word only, so the
# project's name (convgrade), "convert" and "convention" stay free.
CONVOLUTION_WORDS = re.compile(
    r"conv_param|conv_forward|conv_backward|cs231n[-_]conv|conv2d|convolution|\bconv\b|CONV_[A-Z]", re.IGNORECASE)


def test_convolution_words_live_only_in_the_packs_folder():
    """The rule: no Python file of the grader package outside grader/harness/assignments/
    names the convolution assignment (its functions, its parameter, its pack, its kit, its
    starter template). reference/ is the packs' trusted code, outside grader/ so that the
    harness can import it whole and then hide its one folder; only packs name its modules
    (the next test). submissions/ (examples), tests/ and bench/ exercise a particular pack
    and are not the grading engine. A second assignment must never need an edit outside
    its pack (and its reference module) because of a convolution word here."""
    found = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        if PACKS_DIR in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = CONVOLUTION_WORDS.search(line)
            if match:
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert found == [], "convolution words outside the packs' folder:\n" + "\n".join(found)


def test_the_word_rule_catches_what_it_names():
    """The rule itself can fail: each word the assignment uses is caught, the project's name is not."""
    for word in ("conv_param", "conv_forward_naive", "cs231n-conv", "conv2d", "a convolution", "CONV_FUNCTIONS"):
        assert CONVOLUTION_WORDS.search(word), word
    for word in ("convgrade", "convert", "convention", "pool_param"):
        assert not CONVOLUTION_WORDS.search(word), word


def test_the_harness_job_is_typed_on_both_sides():
    """The host builds the job through the harness's types, and the harness refuses a job
    whose fields were renamed or mistyped before anything runs, naming the field."""
    from grader.harness.job import GradingJob, JobError

    job = GradingConfig(assignment="cs231n-maxpool").harness_job(7)
    typed = GradingJob.from_json({**job, "entry": "layers.py", "cpu": 1})  # the sandbox's keys pass through
    assert typed.assignment == "cs231n-maxpool" and typed.limits.deadline_s == job["limits"]["deadline_s"]
    renamed = {**job, "limits": {**{k: v for k, v in job["limits"].items() if k != "deadline_s"}, "deadline": 9}}
    with pytest.raises(JobError, match=r"limits: unknown fields \['deadline'\], missing fields \['deadline_s'\]"):
        GradingJob.from_json(renamed)
    with pytest.raises(JobError, match="seed must be int"):
        GradingJob.from_json({**job, "seed": "7"})
    with pytest.raises(assignments.UnknownAssignment):
        GradingJob.from_json({**job, "assignment": "cs231n-no-such-layer"})


def test_a_pack_with_its_own_calls_plans_checks_under_their_names():
    """What a layer with calls other than forward and backward gets from layer.bound_checks:
    ids, groups and the inputs check under its own call names (issue 26)."""
    from grader.harness.assignments import layer

    functions = {"forward": "batchnorm_forward", "backward": "batchnorm_backward",
                 "backward_alt": "batchnorm_backward_alt"}
    calls = (layer.Call("forward", results=("out", "@cache")),
             layer.Call("backward", results=("dx", "dgamma", "dbeta"), needs=("cache",)),
             layer.Call("backward_alt", results=("dx", "dgamma", "dbeta"), needs=("cache",)))

    def cases(hidden_count):
        return [("notebook-train", "notebook", ("forward",)), ("notebook-alt", "notebook", ("backward_alt",))] + [
            (f"hidden-{i + 1}", "hidden", ("forward", "backward", "backward_alt")) for i in range(hidden_count)]

    identity, plan = layer.bound_checks("cs231n-batchnorm", functions, calls, cases)
    checks = plan(1)
    assert [c["id"] for c in checks] == [
        "forward/notebook-train", "backward_alt/notebook-alt/dx", "backward_alt/notebook-alt/dgamma",
        "backward_alt/notebook-alt/dbeta", "forward/hidden-1", "backward/hidden-1/dx", "backward/hidden-1/dgamma",
        "backward/hidden-1/dbeta", "backward_alt/hidden-1/dx", "backward_alt/hidden-1/dgamma",
        "backward_alt/hidden-1/dbeta", "inputs-unchanged"]
    assert checks[1] == {"id": "backward_alt/notebook-alt/dx", "name": "batchnorm_backward_alt dx, notebook alt case",
                         "call": "backward_alt", "function": "batchnorm_backward_alt", "layer": "cs231n-batchnorm",
                         "group": "backward_alt_notebook"}
    assert checks[-1] == {**layer.inputs_check("cs231n-batchnorm", functions)} == {
        "id": "inputs-unchanged", "name": "inputs are left unchanged", "call": "all",
        "function": "batchnorm_forward, batchnorm_backward, batchnorm_backward_alt", "layer": "cs231n-batchnorm",
        "group": "inputs_unchanged"}
    assert identity("hidden-2", "hidden", "forward", "out")["id"] == "forward/hidden-2"
    assert layer.property_groups(calls) == {"inputs_unchanged": ("forward", "backward", "backward_alt")}


def test_a_course_chooses_among_a_packs_settings():
    """Dropout's p: the keep probability since 2018, the drop probability before. The
    configuration names the choice; the harness sets the pack's module attribute; a name or a
    value the pack does not offer is refused before anything runs."""
    from pydantic import ValidationError

    from grader.harness.assignments import cs231n_dropout
    from grader.harness.job import GradingJob, JobError

    assert assignments.settings_of(cs231n_dropout) == {"p_meaning": ("keep", "drop")}
    assert assignments.settings_of(assignments.get("cs231n-conv")) == {}
    config = GradingConfig(assignment="cs231n-dropout", pack_settings={"p_meaning": "drop"})
    assert config.config_hash() != GradingConfig(assignment="cs231n-dropout").config_hash()  # a regrade
    job = config.harness_job(1)
    assert job["pack_settings"] == {"p_meaning": "drop"}
    try:
        assignments.configure(cs231n_dropout, job["pack_settings"])
        assert cs231n_dropout.P_MEANING == "drop" and cs231n_dropout.keep_probability(0.25) == 0.75
        assignments.configure(cs231n_dropout, {})  # the next grading chose nothing: the default again
        assert cs231n_dropout.P_MEANING == "keep"
    finally:
        assignments.configure(cs231n_dropout, {})
    with pytest.raises(ValidationError, match=r"pack_settings 'p_meaning': 'half' is not one of keep, drop"):
        GradingConfig(assignment="cs231n-dropout", pack_settings={"p_meaning": "half"})
    with pytest.raises(ValidationError, match=r"pack_settings 'p_meaning': cs231n-conv has no settings"):
        GradingConfig(assignment="cs231n-conv", pack_settings={"p_meaning": "drop"})
    with pytest.raises(JobError, match=r"pack_settings 'p_meaning': 'half' is not one of keep, drop"):
        GradingJob.from_json({**job, "pack_settings": {"p_meaning": "half"}})
