"""/me's feedback, rendered: what to fix first (the score, the failed checks with their case,
hint and what-if), then the speed, then the passed checks folded per group; the student's
own file name; identifiers kept whole. (The 390 px layout in Chromium: tests/service.)"""

from __future__ import annotations

import re
from types import SimpleNamespace

from grader.service.pages import feedback_page, words
from tests.unit.service.golden_results import golden_result


def row(status: str = "graded", **fields) -> SimpleNamespace:
    return SimpleNamespace(**{"id": 4, "filename": "s00.py", "status": status, "message": None, **fields})


def page_of(name: str) -> str:
    return feedback_page("s00", "Amy", [(row(), golden_result(name).model_dump_json())], {})


def test_the_failed_checks_come_first_then_the_speed_then_the_passed_checks_folded():
    page = page_of("bug_pad_slice")
    order = [page.index(marker) for marker in (
        "Score 95 / 100", 'class="to-fix">What to fix: 3 failed checks',
        'data-check="backward/hidden-1/dx"', 'class="speed">Speed', 'class="passed-checks">Passed checks')]
    assert order == sorted(order)
    failed = page[page.index('data-check="backward/hidden-1/dx"'):page.index('class="speed"')]
    assert ("dx has shape (1, 3, 0, 0), expected (1, 3, 6, 5) at pad 0, stride 1 (x (1, 3, 6, 5), "
            "w (1, 3, 3, 3))") in failed  # the case it failed on
    assert "forward: 0.50x the reference&#x27;s speed (95% interval 0.40-0.60)" in page
    passed = page[page.index('class="passed-checks"'):]
    assert re.findall(r"<summary>(.*?)</summary>", passed) == [
        '<code class="id">forward_notebook</code>: 1 of 1 passed (10 / 10 points)',
        '<code class="id">backward_notebook</code>: 3 of 3 passed (10 / 10 points)',
        '<code class="id">forward_hidden</code>: 8 of 8 passed (30 / 30 points)',
        '<code class="id">backward_hidden</code>: 21 of 24 passed (35 / 40 points)',
        '<code class="id">inputs_unchanged</code>: 1 of 1 passed (10 / 10 points)']
    assert "<details open" not in page  # folded until opened
    assert "hidden-1 case</td>" not in passed  # a failed check is not listed again among the passed


def test_each_failed_check_has_its_hint_once_and_its_what_if():
    page = page_of("mechanical/py2_division")
    assert page.count("Hint: Python 2 division: use // for shape arithmetic") == 1  # said once in full
    assert page.count("Hint: the same as for check 1 above.") == 35  # inputs_unchanged has none
    assert page.count("What if (with these fixes, not scored): this check passes") == 37
    first = page[page.index('data-check="forward/notebook-forward"'):page.index('data-check="backward/notebook')]
    assert first.index("raised TypeError") < first.index("Hint: Python 2") < first.index("What if (")
    assert page.index("What-if feedback (not part of your score): With these 4 mechanical fixes") < page.index(
        'class="speed"')


def test_a_clean_result_says_all_passed():
    page = page_of("naive_loops")
    assert '<p class="passed">All 37 checks passed.</p>' in page
    assert "What to fix" not in page


def test_the_students_own_file_name_is_shown():
    result = golden_result("fast_strided").model_dump_json()
    own = feedback_page("s00", "Amy", [(row(upload_name="layers.py"), result)], {})
    assert 'Submission 4: <span class="upload-name">layers.py</span>' in own and "s00.py" not in own
    # A row stored before the column existed shows the staged name.
    assert 'Submission 4: <span class="upload-name">s00.py</span>' in feedback_page("s00", "Amy", [(row(), result)], {})


def test_a_rejected_upload_says_why_and_that_it_does_not_count():
    page = feedback_page("s00", "Amy", [(row("rejected", message="layers.py defines no conv_forward_naive"), None)], {})
    assert ('<p class="failed">Rejected: the grader could not load this file, so it was not graded and does not '
            "count against your submission limit. layers.py defines no conv_forward_naive</p>") in page


def test_identifiers_are_kept_whole_and_everything_is_escaped():
    assert words("<b>conv_forward_naive</b>: spatial-batchnorm.forward_notebook, np.zeros.") == (
        '&lt;b&gt;<code class="id">conv_forward_naive</code>&lt;/b&gt;: '
        '<code class="id long">spatial-batchnorm.<wbr>forward_notebook</code>, np.zeros.')  # 34: may wrap
    assert words('x_1<script>alert("a_b")</script>') == (
        '<code class="id">x_1</code>&lt;script&gt;alert(&quot;<code class="id">a_b</code>&quot;)&lt;/script&gt;')


def test_a_file_that_does_not_load_lists_the_load_check_once_and_counts_the_rest():
    """As Gradescope says it (grader/grading/feedback_order.py's fix_list): the load check's
    message (and its hint) once, above; the 37 checks it left unrun on one line."""
    page = page_of("mechanical/cs231n_import")
    assert page.count("Hint: the grader only has your submission&#x27;s files") == 1
    to_fix = page[page.index('class="to-fix">What to fix'):page.index('class="speed"')]
    assert re.findall(r'<li class="failed-check"[^>]*>', to_fix) == [
        '<li class="failed-check" value="1" data-check="load">']
    assert "<p>Failed: the message above says why.</p></li>\n</ol>" in to_fix
    assert '<p class="not-run">... and 37 checks not run (checks 2-38)</p>' in to_fix
    assert "What to fix: 38 failed checks" in to_fix
    assert "not run: " not in page


def test_an_identifier_longer_than_32_characters_may_wrap():
    chosen = "my_" + "very_" * 11 + "long_x"  # 64 characters, a name a student chose
    assert words(f"{'a_' * 16} and {chosen}") == (
        f'<code class="id">{"a_" * 15}a_</code> and <code class="id long">{chosen}</code>')
