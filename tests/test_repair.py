"""The mechanical repairs in a live grading: the grader's process scans no conflicts, and a hundred
thousand xrange lines make a bounded what-if (the repair rules: tests/unit/intake/test_repair.py)."""

from __future__ import annotations

from grader.intake.repair import repair_source
from tests.unit.intake.test_repair import MECHANICAL


def _grade(path, config):
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    result = grade_submission(path, get_sandbox("process"), config, seed=20261128)
    assert result.gradable
    return result


def test_a_grading_scans_no_conflicts_in_the_graders_own_process(quick_config, monkeypatch):
    """Every scan of the student's text runs in a bounded child: the loader's
    (grader.intake.bounded_load) and the what-if repairs' (grader.grading.whatif_repairs), one a side and round."""
    from grader.intake import repair
    from grader.intake import syntax_errors

    calls = []
    original = repair.scan_conflicts

    def counted(text):
        calls.append(len(text))
        return original(text)

    monkeypatch.setattr(repair, "scan_conflicts", counted)
    monkeypatch.setattr(syntax_errors, "scan_conflicts", counted)
    result = _grade(MECHANICAL / "merge_conflict.py", quick_config)
    assert len(result.what_if.variants) == 2 and all(v.checks for v in result.what_if.variants)
    assert calls == []


def test_a_hundred_thousand_xrange_lines_make_a_bounded_what_if(tmp_path, quick_config):
    """100,000 repairs are counted, not listed: the result was 22 MB (155 MB at the upload cap)."""
    import json
    import time

    from grader.grading.result_words import describe_what_if as describe
    from grader.grading.whatif import MAX_LISTED_REPAIRS

    example = (MECHANICAL / "xrange_loops.py").read_text()
    text = example + "\n\ndef _unused():\n" + "    xrange\n" * 100_000
    started = time.monotonic()
    repaired = repair_source(text)
    assert time.monotonic() - started < 10
    xranges = len(repair_source(example).repairs) + 100_000
    assert len(repaired.repairs) == xranges and repaired.error is None

    path = tmp_path / "xrange_everywhere.py"
    path.write_text(text)
    result = _grade(path, quick_config)
    [variant] = result.what_if.variants
    assert len(variant.repairs) == MAX_LISTED_REPAIRS and variant.repairs_not_listed == xranges - MAX_LISTED_REPAIRS
    assert variant.total == 37 and variant.error is None  # the copy was graded
    assert result.what_if.summary.startswith(f"With these {xranges} mechanical fixes, your convolution would pass")
    assert len(json.dumps(result.model_dump(mode="json"))) < 100_000
    assert describe(result.what_if).endswith(f"  ... and {xranges - MAX_LISTED_REPAIRS} more")
