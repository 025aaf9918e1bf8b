"""The leaderboard page as people see it: wording, title and date, and the anchor of a
student's own row (the layout in real Chromium: tests/test_leaderboard_browser.py)."""

from __future__ import annotations

import re

import pytest

from grader.publish.boards import BoardOptions, build_boards
from grader.grading.result_words import describe_figure
from grader.publish.leaderboard_render import human_date, leaderboard_html, row_anchor
from tests.unit.publish.test_boards import class_results
from tests.unit.publish.test_leaderboard import GENERATED_AT, make_result


@pytest.mark.parametrize(
    ("figure", "words"),
    [
        pytest.param((0.8, 0.7, 0.9, 0.95), "0.80x the reference's speed (95% interval 0.70-0.90)", id="a-bit-slower"),
        pytest.param((0.0123, 0.012, 0.0126, 0.9609), "81x slower than the reference (96.09% interval 79-83x slower)",
                     id="much-slower"),
        pytest.param((1.0, None, None, None), "1.0x the reference's speed", id="same-no-interval"),
        pytest.param((340, 300, 400, 0.99), "340x the reference's speed (99% interval 300-400)", id="much-faster"),
    ],
)
def test_the_board_words_a_figure_with_its_stored_level(figure, words):
    """The board speaks with the same voice as /me and Gradescope, the interval's level included."""
    assert describe_figure(*figure) == words


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
