"""The live board's streams share one watcher of the board's version."""

from __future__ import annotations

import asyncio

from grader.service.board_changes import BoardChanges


def changes_of(box: list[int]) -> BoardChanges:
    changes = BoardChanges(lambda: box[0])
    changes.POLL_S = 0.01
    return changes


def test_a_version_already_moved_is_answered_at_once():
    assert asyncio.run(changes_of([3]).next_version(2, timeout_s=5)) == 3


def test_nothing_changed_answers_the_same_version_after_the_timeout():
    assert asyncio.run(changes_of([3]).next_version(3, timeout_s=0.05)) == 3


def test_three_hundred_waiters_share_one_watcher_and_all_hear_the_change():
    box = [7]
    changes = changes_of(box)

    async def scenario():
        waiters = [asyncio.ensure_future(changes.next_version(7, timeout_s=5)) for _ in range(300)]
        await asyncio.sleep(0.05)
        watchers = [task for task in asyncio.all_tasks() if task.get_coro().__qualname__ == "BoardChanges._watch"]
        box[0] = 8
        heard = await asyncio.wait_for(asyncio.gather(*waiters), timeout=2)
        await asyncio.sleep(0.05)  # with nobody waiting, the watcher ends
        return len(watchers), heard, changes._watcher.done()

    watchers, heard, ended = asyncio.run(scenario())
    assert watchers == 1
    assert heard == [8] * 300
    assert ended
