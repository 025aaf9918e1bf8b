"""The live leaderboard in headless Chromium: a grading that finishes shows up without a
reload; with scripts off the page is whole; it fits a phone; /me shows the feedback."""

from __future__ import annotations

import time

import pytest

from tests.browser import Browser
from tests.service.conftest import example

pytestmark = [pytest.mark.service, pytest.mark.browser]


def navigate(browser: Browser, page, url: str) -> None:
    browser.events.clear()
    browser.send("Page.navigate", page.session, url=url)
    browser.wait_for("Page.loadEventFired")


def inked_rows(path, width: int) -> int:
    """Rows of the screenshot with dark pixels (text, table lines): a blank or unstyled page has few."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.width == width
        gray = image.convert("L")
        pixels = gray.load()
        return sum(1 for y in range(gray.height) if any(pixels[x, y] < 100 for x in range(0, gray.width, 2)))


def test_the_live_page_updates_when_a_grading_finishes(server_factory, tmp_path):
    server = server_factory(students=3).start()
    first = server.submit("s00", "a.py", example("fast_strided")).json()["id"]
    server.wait_done([first])

    with Browser(tmp_path / "profile") as browser:
        page = browser.open(f"{server.url}/", width=1280)
        assert "Student 00" in page.evaluate("document.body.innerText")
        assert "Student 01" not in page.evaluate("document.body.innerText")
        page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
        time.sleep(1)  # the event stream is open

        second = server.submit("s01", "b.py", example("bug_pad_slice")).json()["id"]
        server.wait_done([second])
        deadline = time.monotonic() + 30
        while "Student 01" not in page.evaluate("document.body.innerText"):
            assert time.monotonic() < deadline, "the page did not update"
            time.sleep(0.2)
        assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
        assert inked_rows(page.screenshot(tmp_path / "desktop.png"), 1280) > 150

        phone = browser.open(f"{server.url}/", width=390)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        assert "Student 01" in phone.evaluate("document.body.innerText")
        assert inked_rows(phone.screenshot(tmp_path / "phone.png"), 390) > 150

        # Scripts off: the whole board is there (and a <noscript> refresh keeps it current).
        quiet = browser.open("about:blank", width=1280)
        browser.send("Emulation.setScriptExecutionDisabled", quiet.session, value=True)
        navigate(browser, quiet, f"{server.url}/")
        text = quiet.evaluate("document.body.innerText")
        assert "Student 00" in text and "Student 01" in text

        # The feedback page, signed in through its form, at phone width.
        me = browser.open(f"{server.url}/me", width=390)
        token = server.tokens()["s01"]
        me.evaluate(f"document.querySelector('input[name=token]').value = {token!r}; "
                    "document.querySelector('form').submit()")
        browser.wait_for("Page.loadEventFired")
        feedback = me.evaluate("document.body.innerText")
        assert "Score 95 / 100" in feedback and "failed" in feedback
        assert me.evaluate("document.documentElement.scrollWidth") <= 390
        assert inked_rows(me.screenshot(tmp_path / "me-phone.png"), 390) > 150
