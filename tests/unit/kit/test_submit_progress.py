"""How `convgrade submit` tells the wait: a spinner redrawn in place on a terminal, one plain
line per change anywhere else (a notebook cell, a log)."""

from __future__ import annotations

import io

from grader.kit.submit_client import Progress, waiting_words


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_line_is_redrawn_with_a_spinner():
    screen = Terminal()
    progress = Progress(screen)
    for state in ({"status": "queued", "position": 2}, {"status": "queued", "position": 2}, {"status": "running"}):
        progress.show(waiting_words(state))
    progress.done()
    assert screen.getvalue() == ("\r/ queued, position 2\033[K\r- queued, position 2\033[K\r\\ being graded\033[K"
                                 "\r\033[K")  # erased before the summary is printed
    assert "\n" not in screen.getvalue()


def test_elsewhere_each_change_is_one_plain_line():
    log = io.StringIO()
    progress = Progress(log)
    for state in ({"status": "queued", "position": 2}, {"status": "queued", "position": 2},
                  {"status": "queued", "position": 1}, {"status": "running"}, {"status": "running"}):
        progress.show(waiting_words(state))
    progress.done()
    assert log.getvalue() == "queued, position 2\nqueued, position 1\nbeing graded\n"
