"""Headless Chromium driven over the DevTools protocol on a pipe (no extra package, no port).

    with Browser(tmp_path) as browser:
        page = browser.open(url, width=390)     # a phone-sized viewport
        page.evaluate("document.title")          # what the laid-out page says
        page.screenshot(path)                    # the whole page as PNG

The page's own policy forbids scripts; DevTools evaluation is not the page's script,
so the test can measure the layout of a page that runs none.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest


def chromium_binary() -> str:
    """The chromium binary; CI installs Debian's `chromium`, so there its absence is a failure."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed but CI is set: install the Debian package `chromium`")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return binary


def _pipes_at_3_and_4(commands_read: int, replies_write: int) -> None:
    """In the child: chromium reads commands on fd 3 and writes replies on fd 4."""
    high_read = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
    high_write = fcntl.fcntl(replies_write, fcntl.F_DUPFD, 10)
    os.dup2(high_read, 3)
    os.dup2(high_write, 4)


class Browser:
    def __init__(self, profile: Path, timeout_s: float = 60.0):
        self.profile = profile
        self.timeout_s = timeout_s
        self.next_id = 0
        self.buffer = b""
        self.events: list[dict] = []

    def __enter__(self) -> "Browser":
        commands_read, self.commands = os.pipe()  # we write commands; chromium reads fd 3
        self.replies, replies_write = os.pipe()  # chromium writes replies on fd 4
        self.process = subprocess.Popen(
            [chromium_binary(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             "--hide-scrollbars", f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False,  # our pipes are non-inheritable; only the two dup2'd below reach chromium
            preexec_fn=lambda: _pipes_at_3_and_4(commands_read, replies_write),
        )
        os.close(commands_read)
        os.close(replies_write)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.replies)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str, width: int, height: int = 900) -> "Page":
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        self.send("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)
        self.send("Page.enable", session)
        self.events.clear()
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired")
        return page


class Page:
    def __init__(self, browser: Browser, session: str):
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str):
        reply = self.browser.send("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        width, height = self.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollHeight]")
        data = self.browser.send("Page.captureScreenshot", self.session, format="png", captureBeyondViewport=True,
                                 clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})["data"]
        path.write_bytes(base64.b64decode(data))
        return path
