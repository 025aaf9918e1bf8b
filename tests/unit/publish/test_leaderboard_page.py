"""The leaderboard page as people see it: wording, title and date, and the anchor of a
student's own row (the layout in real Chromium: tests/test_leaderboard_browser.py)."""

from __future__ import annotations

import re

import pytest

from grader.publish.boards import BoardOptions, build_boards
from grader.publish.leaderboard_render import describe_speed, human_date, leaderboard_html, row_anchor
from tests.unit.publish.test_boards import class_results
from tests.unit.publish.test_leaderboard import GENERATED_AT, make_result


@pytest.mark.parametrize(
    ("speedup", "words"),
    [
        pytest.param(0.8, "0.80× the reference (1.25× slower)", id="a-bit-slower"),
        pytest.param(0.0123, "0.0123× the reference (81.3× slower)", id="much-slower"),
        pytest.param(1.0, "1.00× the reference", id="same"),
        pytest.param(2.5, "2.50× the reference (2.50× faster)", id="faster"),
        pytest.param(340, "340× the reference (340× faster)", id="much-faster"),
    ],
)
def test_speed_wording_says_against_what_and_which_way(speedup, words):
    assert describe_speed(speedup) == words


def test_human_date():
    assert human_date("2025-03-01T12:00:00+00:00") == "1 March 2025, 12:00 UTC"
    assert human_date("2025-11-09T08:05:00Z") == "9 November 2025, 08:05 UTC"
    assert human_date("2025-03-01T12:00:00+01:00") == "1 March 2025, 12:00 +0100"
    assert human_date("not a date") == "not a date"


def page_board(**options):
    """A class with long names, a hostile one, many ranked students and long reasons."""
    results = class_results() + [
        make_result(f"student-{n:02d}", forward=(0.05 * 1.6**n, 0.045 * 1.6**n, 0.055 * 1.6**n),
                    backward=(0.8, 0.7, 0.9))
        for n in range(12)
    ]
    roster = {"student-00": "Maximiliana Konstantinopoulou-Vanderschoot", "student-01": "<script>alert(1)</script>"}
    return build_boards(results, BoardOptions(roster=roster, generated_at=GENERATED_AT,
                                              title="CS231n: Convolutional Neural Networks, Spring 2025", **options))


def test_every_row_has_its_own_fragment_id():
    board = page_board()
    page = leaderboard_html(board)
    ids = re.findall(r'<tr class="entry[^"]*" id="([^"]+)"', page)
    assert len(ids) == len(board.entries) == len(set(ids))
    assert "row-student-03" in ids and "row-syntax" in ids
    assert "tr:target" in page  # highlighted by CSS alone: the page runs no script
    anonymous = page_board(anonymize=True, salt="pepper")
    assert row_anchor(anonymous.entries[0]) == "row-" + anonymous.entries[0].student


def test_page_shows_the_course_title_and_a_human_date_not_the_internal_id():
    page = leaderboard_html(page_board())
    assert "<title>Leaderboard: CS231n: Convolutional Neural Networks, Spring 2025</title>" in page
    assert '<time datetime="2025-03-01T12:00:00+00:00">1 March 2025, 12:00 UTC</time>' in page
    assert "conv-layers" not in page
