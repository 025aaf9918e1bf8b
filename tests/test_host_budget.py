"""grader.intake.host_budget: host-side work on a student's text runs in a child with a wall
deadline, CPU and memory limits and a cap on its answer; each way of exceeding them is
stopped and said in words a student can read. grader.grading.feedback's note is what a student
sees when the feedback analysis of their file is stopped."""

from __future__ import annotations

import time

import pytest

from grader.grading.feedback import feedback_for
from grader.intake.hints import SourceContext
from grader.intake.host_budget import GiB, MiB, Budget, BudgetExceeded, run_bounded

PHASES = "tests.budget.phases"
FLOAT_SIZE = "conv_forward_naive raised TypeError: 'float' object cannot be interpreted as an integer"
PYTHON2 = ("import numpy as np\n\n\ndef conv_forward_naive(x, w, b, conv_param):\n    N, C, H, W = x.shape\n"
           "    stride = conv_param['stride']\n    return np.zeros((N, (H - 3) / stride + 1)), None\n")


def test_an_answer_comes_back_as_data():
    assert run_bounded(f"{PHASES}:echo", {"a": [1, "b"]}, Budget(wall_s=30)) == {"echo": {"a": [1, "b"]}}


def test_a_phase_that_loops_forever_is_stopped_at_the_wall_deadline():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded) as stopped:
        run_bounded(f"{PHASES}:loop_forever", {}, Budget(wall_s=1.5, cpu_s=60))
    assert stopped.value.what == "time"
    assert stopped.value.describe() == "stopped after 1.5 s (its time limit)"
    assert time.monotonic() - started < 10


def test_a_phase_that_spins_is_stopped_at_its_cpu_limit():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded) as stopped:
        run_bounded(f"{PHASES}:loop_forever", {}, Budget(wall_s=60, cpu_s=1))
    assert stopped.value.what == "cpu"
    assert stopped.value.describe() == "stopped after 1 s of computing (its time limit)"
    assert time.monotonic() - started < 30  # the CPU limit, not the 60 s deadline


def test_a_phase_that_allocates_4_gib_is_stopped_by_the_memory_limit():
    with pytest.raises(BudgetExceeded) as stopped:
        run_bounded(f"{PHASES}:allocate", {"bytes": 4 * GiB}, Budget(wall_s=60, memory_bytes=1 * GiB))
    assert stopped.value.what == "memory"
    assert stopped.value.describe() == "stopped at its memory limit (1 GiB)"


def test_an_answer_over_the_cap_is_refused():
    with pytest.raises(BudgetExceeded) as stopped:
        run_bounded(f"{PHASES}:answer_of", {"chars": 3 * MiB}, Budget(wall_s=60, output_bytes=2 * MiB))
    assert stopped.value.what == "output"
    assert stopped.value.describe() == "stopped: its answer was over 2 MiB"
    assert run_bounded(f"{PHASES}:answer_of", {"chars": 1 * MiB}, Budget(wall_s=60, output_bytes=2 * MiB)) \
        == "x" * MiB


def test_unbounded_recursion_and_a_bug_are_reported_not_raised():
    with pytest.raises(BudgetExceeded) as deep:
        run_bounded(f"{PHASES}:recurse", {}, Budget(wall_s=60))
    assert deep.value.describe() == "stopped: the file is nested too deeply to analyse"
    with pytest.raises(BudgetExceeded) as bug:
        run_bounded(f"{PHASES}:fail", {}, Budget(wall_s=60))
    assert bug.value.what == "crash" and bug.value.describe() == "failed (ValueError: a bug in the phase)"


def test_feedback_gives_every_message_its_hint_from_one_analysis():
    context = SourceContext("layers.py", PYTHON2)
    feedback = feedback_for(context, [FLOAT_SIZE, "out is wrong", FLOAT_SIZE])
    hint = ("\nHint: Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): "
            "layers.py line 7: `return np.zeros((N, (H - 3) / stride + 1)), None`")
    assert feedback.messages == [FLOAT_SIZE + hint, "out is wrong", FLOAT_SIZE + hint]
    assert feedback.note is None
    assert feedback.context.divisions == [7]  # made in the child, kept for the first mechanical error


def test_feedback_stopped_by_its_budget_says_so_and_keeps_the_messages():
    context = SourceContext("layers.py", PYTHON2)
    feedback = feedback_for(context, [FLOAT_SIZE, "out is wrong"], Budget(wall_s=0.001))
    assert feedback.messages == [FLOAT_SIZE, "out is wrong"]
    assert feedback.note == ("feedback analysis of your file stopped after 0.001 s (its time limit): hints omitted "
                             "(your checks and score are not affected)")


def test_the_bounded_loader_gives_the_loaders_answer(tmp_path):
    from grader.intake.bounded_load import load_bounded
    from grader.intake.load import load_submission
    from grader.intake.syntax_errors import EntrySyntaxError

    source = tmp_path / "layers.py"
    source.write_text(PYTHON2 + "\n\ndef conv_backward_naive(dout, cache):\n    return None, None, None\n")
    required = ("conv_forward_naive", "conv_backward_naive")
    bounded, direct = load_bounded(source, tmp_path / "a", required), load_submission(source, tmp_path / "b",
                                                                                        required=required)
    assert bounded.root.parent == tmp_path / "a" and (bounded.root / "layers.py").read_text() == source.read_text()
    assert (bounded.sha256, bounded.entry, bounded.functions_found, bounded.notes, bounded.kind) == \
        (direct.sha256, direct.entry, direct.functions_found, direct.notes, direct.kind)
    source.write_text("def conv_forward_naive(x):\n\tif x:\n        return 1\n")
    with pytest.raises(EntrySyntaxError) as refused:
        load_bounded(source, tmp_path / "c", required)
    assert refused.value.cause == "tabs" and refused.value.where == "layers.py" and "\tif x" in refused.value.source


def test_a_loader_over_its_budget_makes_the_submission_unloadable(tmp_path, quick_config, monkeypatch):
    from grader.intake import bounded_load
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    source = tmp_path / "layers.py"
    source.write_text(PYTHON2)
    monkeypatch.setattr(bounded_load, "BUDGET", Budget(wall_s=0.001))
    result = grade_submission(source, get_sandbox("process"), quick_config, seed=1)
    assert result.gradable and result.score == 0
    assert result.failure.message == ("loading your submission stopped after 0.001 s (its time limit) (hint: submit "
                                      "the .py file that defines the functions (a notebook or an archive with less "
                                      "in it loads faster))")
    assert all(c.status.value == "failed" for c in result.checks if c.group != "speed")


def test_feedback_over_its_budget_leaves_the_sandboxs_verdicts(tmp_path, quick_config, monkeypatch):
    """The checks and the score are the sandbox's; the messages lose their hints, and a note says why."""
    from grader.grading import feedback
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    source = tmp_path / "layers.py"
    source.write_text(PYTHON2 + "\n\ndef conv_backward_naive(dout, cache):\n    return None, None, None\n")
    hinted = grade_submission(source, get_sandbox("process"), quick_config, seed=1)
    monkeypatch.setattr(feedback, "BUDGET", Budget(wall_s=0.001))
    stopped = grade_submission(source, get_sandbox("process"), quick_config, seed=1)
    assert [(c.id, c.status, c.score) for c in stopped.checks] == [(c.id, c.status, c.score) for c in hinted.checks]
    assert stopped.score == hinted.score == 0
    forward = next(c for c in stopped.checks if c.id == "forward/notebook-forward")
    assert "Hint: Python 2 division" in next(c for c in hinted.checks if c.id == forward.id).message
    assert "Hint:" not in forward.message and "'float' object cannot be interpreted as an integer" in forward.message
    assert stopped.notes == ["feedback analysis of your file stopped after 0.001 s (its time limit): hints omitted "
                             "(your checks and score are not affected)"]
