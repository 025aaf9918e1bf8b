"""The leaderboard page as people see it: wording, title and date, a student's own row
through the URL fragment, and the layout at desktop and phone width in real Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from grader.publish.boards import BoardOptions, build_boards
from grader.grading.result_words import describe_figure
from grader.publish.leaderboard_render import human_date, leaderboard_html, row_anchor
from test_boards import class_results
from test_leaderboard import GENERATED_AT, make_result

HIGHLIGHT = (255, 224, 138)  # tr:target's background in the page's style
WIDTHS = [pytest.param(1280, id="desktop-1280"), pytest.param(390, id="phone-390")]


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


# ------------------------------------------------------------------------ browser


@pytest.fixture
def page_url(tmp_path) -> str:
    path = tmp_path / "leaderboard.html"
    path.write_text(leaderboard_html(page_board()), encoding="utf-8")
    return path.as_uri()


def _keep(screenshot: Path) -> None:
    """CONVGRADE_SCREENSHOTS=folder keeps the screenshots, to look at them."""
    folder = os.environ.get("CONVGRADE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / screenshot.name)


LAYOUT = """(() => {
  const width = document.documentElement.clientWidth;
  const visible = e => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0;
  const cells = [...document.querySelectorAll('table.board td')].filter(visible);
  const plots = [...document.querySelectorAll('figure svg')].filter(visible);
  const plot = plots[0];
  const box = plot.getBoundingClientRect();
  const label = plot.querySelector('text.row-label').getBoundingClientRect();
  const clippedText = [...plot.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
      .filter(([, b]) => b.left < box.left - 0.5 || b.right > box.right + 0.5).map(([text]) => text);
  return {
    width, scrollWidth: document.documentElement.scrollWidth,
    cutCells: cells.filter(c => c.getBoundingClientRect().right > width + 0.5 || c.getBoundingClientRect().left < -0.5)
                   .map(c => c.textContent.slice(0, 40)),
    cellCount: cells.length,
    plotIds: plots.map(p => p.id),
    plotRight: plot.getBoundingClientRect().right,
    labelHeight: label.height,
    clippedText,
    headerShown: visible(document.querySelector('#ranking thead th')) &&
                 document.querySelector('#ranking thead').getBoundingClientRect().height > 5,
  };
})()"""


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_page_fits_its_width_with_a_legible_plot(tmp_path, page_url, width):
    from browser import Browser

    with Browser(tmp_path / "profile") as browser:
        page = browser.open(page_url, width=width)
        layout = page.evaluate(LAYOUT)
        shot = page.screenshot(tmp_path / f"leaderboard-{width}.png")
    _keep(shot)
    assert layout["width"] == width
    assert layout["scrollWidth"] <= width, "the page scrolls sideways"
    assert layout["cutCells"] == [], "cells cut off at the right edge"
    assert layout["cellCount"] > 40
    assert layout["plotIds"] == (["speedup-plot"] if width > 700 else ["speedup-plot-narrow"])
    assert layout["plotRight"] <= width
    assert layout["labelHeight"] >= 10, "plot text shrunk below legibility"
    assert layout["clippedText"] == [], "plot labels run off the drawing"
    assert layout["headerShown"] is (width > 700)  # a phone reads one labelled card per student

    from PIL import Image

    with Image.open(shot) as image:
        assert image.width == width and image.height > 900


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_own_row_is_highlighted_through_the_url_fragment(tmp_path, page_url, width):
    from PIL import Image

    from browser import Browser

    with Browser(tmp_path / "profile") as browser:
        plain = browser.open(page_url, width=width)
        plain_shot = plain.screenshot(tmp_path / f"plain-{width}.png")
        mine = browser.open(page_url + "#row-student-03", width=width)
        target = mine.evaluate("(() => { const r = document.querySelector(':target');"
                               " const b = r.getBoundingClientRect();"
                               " return {id: r.id, top: b.top + scrollY, left: b.left, width: b.width,"
                               " height: b.height, background: getComputedStyle(r).backgroundColor}; })()")
        mine_shot = mine.screenshot(tmp_path / f"row-{width}.png")
    _keep(mine_shot)
    assert target["id"] == "row-student-03"
    assert target["background"] == "rgb(255, 224, 138)"

    def highlighted(path: Path, box=None) -> int:
        with Image.open(path) as image:
            pixels = image.convert("RGB")
            if box:
                pixels = pixels.crop(box)
            return {color: count for count, color in pixels.getcolors(1 << 24)}.get(HIGHLIGHT, 0)

    row_box = (int(target["left"]), int(target["top"]), int(target["left"] + target["width"]),
               int(target["top"] + target["height"]))
    area = (row_box[2] - row_box[0]) * (row_box[3] - row_box[1])
    assert highlighted(plain_shot) == 0
    assert highlighted(mine_shot, row_box) > 0.4 * area  # the row's own background, under its text
    assert highlighted(mine_shot) < 1.2 * area  # and nothing else
