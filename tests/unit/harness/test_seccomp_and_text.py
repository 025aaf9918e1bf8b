"""The workers' system-call filter (grader.harness.seccomp) is well formed for each
architecture, and student text (grader.harness.text) is cleaned and clipped, as units (each
filter rule tried in a forked child: tests/test_seccomp_and_text.py)."""

from __future__ import annotations

from grader.harness import seccomp
from grader.harness.text import ReportBudget, clean, clean_tree, clip, json_size


def test_the_filter_is_well_formed_for_each_architecture():
    for arch in seccomp.SYSCALLS:
        program = seccomp.build_filter(arch)
        assert len(program) < 4096
        for index, (code, jt, jf, _) in enumerate(program):
            if code in (0x15, 0x45, 0x35):  # jumps land inside the program
                assert index + 1 + max(jt, jf) < len(program)
        assert program[-1] == (0x06, 0, 0, seccomp.SECCOMP_RET_ALLOW)
        assert set(seccomp.DENIED) <= set(seccomp.SYSCALLS[arch])


def test_clean_replaces_lone_surrogates_and_shows_control_characters():
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("\x1b[2J\rfake 100/100\x07") == "\\x1b[2J\\x0dfake 100/100\\x07"
    assert clean("right-to-left \u202e override") == "right-to-left \\u202e override"
    assert clean("lines\n\tstay") == "lines\n\tstay"
    assert clean(clean("\x1b")) == clean("\x1b")  # cleaning twice changes nothing
    clean("a\ud800").encode("utf-8")  # always encodable


def test_clip_counts_bytes_of_the_report_not_characters():
    emoji = "\U0001F600" * 1000
    clipped = clip(emoji, 1200)
    assert json_size(clipped) < 1200 + 40  # the marker may go a little past
    assert clipped.endswith("more bytes not shown]")
    assert clip("short", 100) == "short"


def test_one_budget_for_everything_a_student_writes():
    budget = ReportBudget(1000)
    texts = [budget.take("\U0001F600" * 500, 800) for _ in range(10)]
    assert sum(json_size(t) for t in texts) < 1000 + 10 * (ReportBudget.FLOOR_BYTES + 40)
    assert all(t.startswith("\U0001F600") for t in texts)  # every string keeps its head


def test_clean_tree_cleans_keys_and_values_and_leaves_numbers():
    assert clean_tree({"a\x1b": ["x\ud800", 1.5, None, {"k": "\r"}]}) == {"a\\x1b": ["x\ufffd", 1.5, None, {"k": "\\x0d"}]}
