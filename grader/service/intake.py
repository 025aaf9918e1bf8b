"""Group commit of uploads: the uploads that arrive together are stored and queued together.

One thread takes every upload waiting, stores their bytes (``ContentStore.put_many``: one
sync for the group, not two fsyncs each) and then commits their job rows in one
transaction (one more sync). Each upload's future is resolved only after both, so a 202
always means the bytes are durable and the job row is committed; if either step fails,
every upload of the group hears of it and none is acknowledged.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from grader.service import db
from grader.service.store import ContentStore


class Intake:
    MAX_GROUP = 256

    def __init__(self, engine: db.Database, store: ContentStore):
        self.engine = engine
        self.store = store
        self.waiting: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, name="convgrade-intake", daemon=True).start()

    def add(self, student_id: str, data: bytes, filename: str) -> Future:
        """A future of the upload's (job id, queue position), resolved once it is durable."""
        answer: Future = Future()
        self.waiting.put((student_id, data, filename, answer))
        return answer

    def _run(self) -> None:
        while True:
            group = [self.waiting.get()]
            while len(group) < self.MAX_GROUP:
                try:
                    group.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                digests = self.store.put_many([data for _, data, _, _ in group])
                jobs = db.add_submissions(self.engine, [(student_id, digest, filename) for
                                                        (student_id, _, filename, _), digest in zip(group, digests)])
            except Exception as exc:  # every waiter hears of it; none is told it was stored
                for *_, answer in group:
                    answer.set_exception(exc)
                continue
            for (*_, answer), job in zip(group, jobs):
                answer.set_result(job)
