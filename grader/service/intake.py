"""Group commit of uploads: the uploads that arrive together are stored and queued together.

One thread takes every upload waiting, stores their bytes (``ContentStore.put_many``: one
sync for the group, not two fsyncs each) and then commits their job rows in one
transaction (one more sync). Each upload's future is resolved only after both, so a 202
always means the bytes are durable and the job row is committed; if either step fails,
every upload of the group hears of it and none is acknowledged.

The rate limit is decided here, in the transaction that inserts the rows
(``db.add_submissions``): an upload past it gets ``db.RateLimited`` instead of a row.
Its bytes may already be in the store then (content-addressed, harmless, and only for
uploads that raced past the server's early check of the count).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from grader.service import db
from grader.service.store import ContentStore


class Intake:
    MAX_GROUP = 256

    def __init__(self, engine: db.Database, store: ContentStore, *, rate_limit: tuple[int, float] | None = None,
                 exempt: frozenset[str] = frozenset()):
        self.engine = engine
        self.store = store
        self.rate_limit = rate_limit
        self.exempt = exempt
        self.waiting: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, name="convgrade-intake", daemon=True).start()

    def add(self, student_id: str, data: bytes, filename: str) -> Future:
        """A future of the upload's (job id, queue position), resolved once it is durable, or
        failed with ``db.RateLimited``."""
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
                                                        (student_id, _, filename, _), digest in zip(group, digests)],
                                          rate_limit=self.rate_limit, exempt=self.exempt)
            except Exception as exc:  # every waiter hears of it; none is told it was stored
                for *_, answer in group:
                    answer.set_exception(exc)
                continue
            for (*_, answer), job in zip(group, jobs):
                if isinstance(job, db.RateLimited):
                    answer.set_exception(job)
                else:
                    answer.set_result(job)
