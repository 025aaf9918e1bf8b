"""The leaderboard page in real, headless Chromium (a process: outside tests/unit): the page
renders with no console message, its policy's refusals are seen, the layout fits desktop and
phone widths, and a student's own row is highlighted through the URL fragment."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.publish.leaderboard_render import leaderboard_html
from tests.unit.publish.test_leaderboard import HOSTILE_NAME, _sample_board, digest
from tests.unit.publish.test_leaderboard_page import page_board

HIGHLIGHT = (255, 224, 138)  # tr:target's background in the page's style
WIDTHS = [pytest.param(1280, id="desktop-1280"), pytest.param(390, id="phone-390")]

# ------------------------------------------------------------ the board (test_leaderboard.py)


def _chromium() -> str:
    """The chromium binary; CI installs Debian's `chromium`, so there its absence is a failure."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed but CI is set: install the Debian package `chromium`")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return binary


def _headless(binary: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",  # CI runs as root in a container, where chromium's own sandbox cannot start
            f"--user-data-dir={profile}",  # a private profile: no shared state, no lock with other runs
            "--no-first-run",
            "--enable-logging=stderr",  # page console messages (CSP refusals, errors) go to stderr
            "--v=0",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console_messages(stderr: str) -> list[str]:
    """Lines chromium logs for the page's console (errors, CSP refusals), e.g. ``INFO:CONSOLE:1] "..."``."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.browser
def test_page_renders_in_headless_chromium(tmp_path):
    binary = _chromium()
    page_path = tmp_path / "leaderboard.html"
    page_path.write_text(leaderboard_html(_sample_board()), encoding="utf-8")
    url = page_path.as_uri()

    dumped = _headless(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr
    dom = digest(dumped.stdout)
    # The DOM after the browser parsed the page: the hostile name is text, not a script.
    assert "script" not in dom.tags
    assert [row["data-student"] for row in dom.rows["ranking"]] == [HOSTILE_NAME, 'Bea "quoted" & co', "c"]
    assert [row["data-student"] for row in dom.rows["unranked"]] == ["d", "e"]
    assert "speedup-plot" in dom.ids
    assert len(dom.circles) == 6
    assert _console_messages(dumped.stderr) == []

    screenshot = tmp_path / "leaderboard.png"
    shot = _headless(binary, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1000,900", url)
    assert shot.returncode == 0, shot.stderr
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_console_capture_sees_what_the_page_policy_blocks(tmp_path):
    """The 'no console messages' assertion above can fail: a blocked resource is reported."""
    binary = _chromium()
    page_path = tmp_path / "blocked.html"
    page = leaderboard_html(_sample_board()).replace("<h1>", '<img src="https://example.invalid/x.png"><h1>', 1)
    page_path.write_text(page, encoding="utf-8")

    dumped = _headless(binary, tmp_path / "profile", "--dump-dom", page_path.as_uri())
    assert dumped.returncode == 0, dumped.stderr
    messages = _console_messages(dumped.stderr)
    assert len(messages) == 1 and "Content Security Policy" in messages[0], dumped.stderr


# ------------------------------------------------- the page's layout (test_leaderboard_page.py)


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
