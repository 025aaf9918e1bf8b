"""/me at phone width in real headless Chromium: it leads with what to fix (the score, the
failed checks with their hints and what-if), then the speed, then the passed checks folded
per group; no identifier is split across lines at 390 px, and the page never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser import Browser
from tests.service.conftest import ROOT
from tests.service.test_live_page import inked_rows

pytestmark = [pytest.mark.service, pytest.mark.browser]

# Correctness and the what-if copies (the hints and what-if lines are what a phone must fit), no timing.
NO_TIMING = {"timing": {"enabled": False}}

# Identifiers (code.id) drawn on more than one line: their line boxes (client rects).
SPLIT_IDENTIFIERS = """[...document.querySelectorAll('code.id:not(.long)')]
  .filter(el => el.getClientRects().length !== 1)
  .map(el => el.textContent + ' in ' + el.getClientRects().length + ' boxes')"""

# The top of each part of the newest submission, in page coordinates.
TOPS = """(() => {
  const section = document.querySelector('h2').parentElement;
  const top = sel => { const el = document.querySelector(sel); return el ? el.getBoundingClientRect().top : null; };
  return {score: top('.score'), fix: top('h3.to-fix'), first_failed: top('li.failed-check'),
          what_if: top('li.failed-check .what-if'), speed: top('h3.speed'), passed: top('h3.passed-checks')};
})()"""


def sign_in(browser: Browser, server, student: str, width: int):
    page = browser.open(f"{server.url}/me", width=width)
    page.evaluate(f"document.querySelector('input[name=token]').value = {server.tokens()[student]!r}; "
                  "document.querySelector('form').submit()")
    browser.wait_for("Page.loadEventFired")
    return page


def test_the_feedback_page_leads_with_what_to_fix_and_fits_a_phone(server_factory, tmp_path):
    server = server_factory(students=2, config=NO_TIMING).start()
    # Python 2 division: every check fails with a hint, and a repaired copy passes them (what-if).
    job = server.submit("s00", "layers.py", (ROOT / "submissions" / "mechanical" / "py2_division.py").read_bytes()
                        ).json()["id"]
    state = server.wait_done([job], timeout=300)[job]
    assert state["status"] == "graded", state

    with Browser(tmp_path / "profile") as browser:
        page = sign_in(browser, server, "s00", 390)
        text = page.evaluate("document.body.innerText")
        row = server.database()
        from grader.service import db

        stored = db.submission(row, job)[0]
        assert f"Submission {job}: {getattr(stored, 'upload_name', None) or stored.filename}" in text

        tops = page.evaluate(TOPS)
        assert None not in tops.values(), tops
        # What to fix first, then the speed, then what passed.
        assert tops["score"] < tops["fix"] < tops["first_failed"] < tops["what_if"] < tops["speed"] < tops["passed"], tops
        assert "Hint: " in page.evaluate("document.querySelector('li.failed-check').innerText")
        summaries = page.evaluate("[...document.querySelectorAll('details.group')].map(d => [d.open, "
                                  "d.querySelector('summary').innerText])")
        assert summaries and not any(opened for opened, _ in summaries)  # folded
        assert all(" passed (" in summary for _, summary in summaries), summaries

        # At 390 px, with every fold open: no identifier on two lines, nothing wider than the screen.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.evaluate("document.querySelectorAll('code.id').length") > 50
        assert page.evaluate(SPLIT_IDENTIFIERS) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert inked_rows(page.screenshot(tmp_path / "me-390.png"), 390) > 300

        # The check can fail: the old style (break anywhere) splits identifiers on this page.
        page.evaluate("document.querySelectorAll('code.id').forEach(el => {"
                      "el.style.setProperty('white-space', 'normal', 'important');"
                      "el.style.setProperty('word-break', 'break-all', 'important');})")
        assert page.evaluate(SPLIT_IDENTIFIERS) != []


# A student's own long names in the messages a failed check shows: one with underscores (a
# code.id longer than 32 characters) and one plain token, 60 characters each.
LONG_IDENTIFIER = "layout_" + "chosen_" * 5 + "by_the_student_xyz"
LONG_TOKEN = "Q" * 60
LONG_NAMES = f'''
def conv_forward_naive(x, w, b, conv_param):
    raise ValueError("unknown layout {LONG_IDENTIFIER} ({LONG_TOKEN}); use conv_param")


def conv_backward_naive(dout, cache):
    raise ValueError("unknown layout {LONG_IDENTIFIER} ({LONG_TOKEN}); use conv_param")
'''


def test_long_student_chosen_names_wrap_and_short_identifiers_stay_whole(server_factory, tmp_path):
    assert len(LONG_IDENTIFIER) == len(LONG_TOKEN) == 60
    server = server_factory(students=1, config=NO_TIMING).start()
    job = server.submit("s00", "layers.py", LONG_NAMES.encode()).json()["id"]
    state = server.wait_done([job], timeout=300)[job]
    assert state["status"] == "graded", state

    with Browser(tmp_path / "profile") as browser:
        page = sign_in(browser, server, "s00", 390)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        first = page.evaluate("document.querySelector('li.failed-check').innerText")
        assert LONG_IDENTIFIER in first.replace("\n", "") and LONG_TOKEN in first, first
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pushes the page sideways
        assert page.evaluate("[...document.querySelectorAll('code.id.long')].map(el => el.textContent)"
                             ).count(LONG_IDENTIFIER) >= 1
        short = page.evaluate("[...document.querySelectorAll('code.id')].filter(el => el.textContent.length <= 32)"
                              ".map(el => el.getClientRects().length)")
        assert len(short) > 10 and set(short) == {1}, short
