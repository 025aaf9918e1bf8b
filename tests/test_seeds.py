"""Deterministic grades: the hidden cases' seed comes from the submission's content and
a course secret, so a regrade reproduces the grade; --seed overrides; the result says
how the seed was derived and never holds the secret."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader import cli as cli_module
from grader.grading.config import GradingConfig
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox
from grader.grading.seeds import COURSE_SECRET, DEFAULT_SECRET, GIVEN, SECRET_ENV, derive_seed
from scripted_reports import scripted_sandbox


def _graded(path, config, **options):
    result = grade_submission(path, get_sandbox("process"), config, **options)
    return result, [(c.id, c.status.value, c.message) for c in result.checks]


def test_three_regradings_without_a_seed_give_the_same_grade(monkeypatch, examples_dir, quick_config):
    """A buggy submission whose failures name the hidden cases' shapes: the same file gets
    the same cases, checks, messages and score every time."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    path = examples_dir / "bug_pad_hardcoded.py"
    first, checks = _graded(path, quick_config)
    assert first.seed_derivation == DEFAULT_SECRET
    assert first.seed == derive_seed(first.submission.sha256, first.assignment, None)[0]
    assert any(status == "failed" and "hidden" in check_id for check_id, status, _ in checks)
    for _ in range(2):
        again, again_checks = _graded(path, quick_config)
        assert (again.seed, again.score, again_checks) == (first.seed, first.score, checks)


def test_a_course_secret_changes_the_cases_and_is_never_recorded(monkeypatch, examples_dir, quick_config):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    path = examples_dir / "bug_pad_hardcoded.py"
    public, _ = _graded(path, quick_config)
    secret = "correct horse battery staple"
    with_secret = GradingConfig(**{**quick_config.model_dump(), "seed_secret": secret})
    keyed, _ = _graded(path, with_secret)
    assert keyed.seed_derivation == COURSE_SECRET
    assert keyed.seed == derive_seed(keyed.submission.sha256, keyed.assignment, secret)[0] != public.seed
    assert secret not in keyed.model_dump_json()
    assert with_secret.config_hash() == quick_config.config_hash()  # the secret is not in the hash either
    monkeypatch.setenv(SECRET_ENV, "another secret")
    from_env, _ = _graded(path, with_secret)
    assert from_env.seed == derive_seed(from_env.submission.sha256, from_env.assignment, "another secret")[0]


def test_an_explicit_seed_overrides(examples_dir, quick_config):
    result, _ = _graded(examples_dir / "fast_strided.py", quick_config, seed=12345)
    assert (result.seed, result.seed_derivation) == (12345, GIVEN)


def test_an_unloadable_submission_also_gets_a_content_seed(tmp_path, monkeypatch, quick_config):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    path = tmp_path / "broken.zip"
    path.write_bytes(b"not a zip")
    first, _ = _graded(path, quick_config)
    second, _ = _graded(path, quick_config)
    assert first.seed == second.seed and first.seed_derivation == DEFAULT_SECRET


@pytest.mark.parametrize(("env", "warned"), [("", True), ("s3cret", False)])
def test_the_cli_warns_without_a_course_secret(tmp_path, monkeypatch, examples_dir, quick_config, env, warned):
    monkeypatch.setenv(SECRET_ENV, env)
    # The warning and the seed's derivation are the command's own work: the run is scripted.
    monkeypatch.setattr(cli_module, "get_sandbox", lambda name: scripted_sandbox(quick_config))
    config = tmp_path / "quick.json"
    config.write_text(quick_config.model_dump_json())
    outcome = CliRunner().invoke(cli_module.cli, ["grade", str(examples_dir / "fast_strided.py"), "--config",
                                                  str(config), "--out", str(tmp_path / "r.json")])
    assert outcome.exit_code == 0, outcome.output
    assert ("no course secret" in outcome.output) is warned
    assert json.loads((tmp_path / "r.json").read_text())["seed_derivation"] == (DEFAULT_SECRET if warned
                                                                               else COURSE_SECRET)
