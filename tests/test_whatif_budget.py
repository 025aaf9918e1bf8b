"""The what-if's repairs of a student's text run in a bounded child (grader.grading.whatif_repairs):
past its budget the grading keeps its checks and score and says in a note why there is
no what-if; nothing of the student's text is parsed in the grader's own process."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.grading import whatif_repairs
from grader.intake.host_budget import Budget, BudgetExceeded, MiB
from grader.grading.whatif_repairs import RepairRules, WhatIfStopped, repair_texts

MECHANICAL = Path(__file__).resolve().parents[1] / "submissions" / "mechanical"
PYTHON2 = RepairRules(python2=True, missing=frozenset(), side=None, beside=frozenset())
NOT_AFFECTED = "; no what-if for this grading (your checks and score are not affected)"


def _grade(path, config):
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    return grade_submission(path, get_sandbox("process"), config, seed=20261128)


def test_a_what_if_whose_repairs_pass_their_time_budget_is_a_note_and_the_score_stays(
        tmp_path, quick_config, monkeypatch):
    # About 1 MB of Python 2: its repairs take seconds (a 5 MiB file took 13.6 s a round in the grader's process).
    path = tmp_path / "long_python2.py"
    path.write_text((MECHANICAL / "py2_print_xrange.py").read_text() + "\n\ndef _log():\n"
                    + "    print 'step'\n" * 60_000)
    without = _grade(path, quick_config.model_copy(update={
        "what_if": quick_config.what_if.model_copy(update={"enabled": False})}))
    monkeypatch.setattr(whatif_repairs, "BUDGET", Budget(wall_s=1.0, cpu_s=60, output_bytes=64 * MiB))
    result = _grade(path, quick_config)
    assert result.what_if is None and result.gradable
    assert result.notes[-1] == ("what-if feedback on your file stopped after 1 s (its time limit)" + NOT_AFFECTED)
    assert "grader error" not in " ".join(result.notes)
    assert (result.score, [c.status for c in result.checks]) == (without.score, [c.status for c in without.checks])


def test_repairs_past_their_memory_budget_are_the_students_file_not_a_grader_error():
    text = "def f():\n" + "    print 'x'\n" * 200_000
    with pytest.raises(WhatIfStopped) as stopped:
        repair_texts([text], PYTHON2, frozenset(), Budget(wall_s=120, cpu_s=120, memory_bytes=192 * MiB,
                                                          output_bytes=64 * MiB))
    assert stopped.value.stopped.what == "memory"
    assert stopped.value.note() == ("what-if feedback on your file stopped at its memory limit (0.1875 GiB)"
                                    + NOT_AFFECTED)


def test_a_file_too_deeply_nested_for_the_repairs_is_said_to_be_the_students():
    note = WhatIfStopped(BudgetExceeded("depth", whatif_repairs.BUDGET)).note()
    assert note == ("what-if feedback on your file stopped: your file is nested too deeply for the what-if to "
                    "read it" + NOT_AFFECTED)


def test_repairs_and_the_unavailable_imports_come_back_from_the_child_as_the_repair_makes_them():
    text = "import numpy as np\nimport matplotlib.pyplot as plt\nimport mine\n\nx = np.int(3)\n"
    python3 = RepairRules(python2=False, missing=frozenset(), side=None, beside=frozenset())
    [(repaired, missing)] = repair_texts([text], python3, frozenset({"mine"}))
    assert missing == frozenset({"matplotlib"})
    assert [(r.line, r.rule, r.after) for r in repaired.repairs] == [
        (2, "unused_missing_import", ""), (5, "numpy_alias", "x = int(3)")]
    assert repaired.error is None and "plt" not in repaired.text


def test_a_what_if_parses_nothing_of_the_students_text_in_the_graders_process(quick_config, monkeypatch):
    """The unused `import matplotlib` is found missing by parsing the file: in the repairs' child."""
    source = (MECHANICAL / "unused_matplotlib.py").read_text()
    parsed = []
    original = ast.parse

    def watched(text, *args, **kwargs):
        parsed.append(text == source or (isinstance(text, str) and "matplotlib" in text))
        return original(text, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", watched)
    result = _grade(MECHANICAL / "unused_matplotlib.py", quick_config)
    [variant] = result.what_if.variants
    assert [r.rule for r in variant.repairs] == ["unused_missing_import"] * 2 and variant.total == 37
    assert not any(parsed)


def test_every_repair_of_a_what_if_draws_on_one_wall_budget():
    """A second call gets what the first left: rounds and sides cannot each take the whole budget."""
    text = "def f():\n" + "    print 'x'\n" * 60_000  # about a second of repairs
    shared = whatif_repairs.SharedRepairBudget(Budget(wall_s=3.0, cpu_s=60, output_bytes=64 * MiB))
    with pytest.raises(WhatIfStopped) as stopped:
        for _ in range(10):
            shared.repair([text], PYTHON2, frozenset())
    assert 3.0 <= shared.spent < 4.5
    assert stopped.value.note() == "what-if feedback on your file stopped after 3 s (its time limit)" + NOT_AFFECTED
