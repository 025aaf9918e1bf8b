"""Group commit of uploads: the uploads that arrive together are stored and queued together.

One thread takes every upload waiting, stores their bytes (``ContentStore.put_many``: one
sync for the group, not two fsyncs each) and then commits their job rows in one
transaction (one more sync). Each upload's future is resolved only after both, so a 202
always means the bytes are durable and the job row is committed; if either step fails,
every upload of the group hears of it and none is acknowledged.

The loader's verdicts on uploads stored earlier (grader.service.verifier) go through the
same thread and the same transaction: an accepted job becomes claimable, a refused one
`rejected`, and the bytes no other job names are deleted after the commit. Everything that
writes or deletes in the store happens on this one thread, so a blob is never deleted
between a new upload finding it already stored and its row naming it.

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
                 exempt: frozenset[str] = frozenset(), log=print):
        self.engine = engine
        self.store = store
        self.rate_limit = rate_limit
        self.exempt = exempt
        self.log = log
        self.waiting: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, name="convgrade-intake", daemon=True).start()

    def add(self, student_id: str, data: bytes, filename: str, upload_name: str | None = None) -> Future:
        """A future of the upload's (job id, queue position), resolved once it is durable, or
        failed with ``db.RateLimited``."""
        answer: Future = Future()
        self.waiting.put(("upload", (student_id, data, filename, upload_name), answer))
        return answer

    def verdict(self, job_id: int, refusal: str | None, content_sha256: str | None = None) -> Future:
        """Record the loader's verdict on a stored job (None: accepted, with the loaded content's
        hash); a future of None once committed."""
        answer: Future = Future()
        self.waiting.put(("verdict", (job_id, refusal, content_sha256), answer))
        return answer

    def _run(self) -> None:
        while True:
            group = [self.waiting.get()]
            while len(group) < self.MAX_GROUP:
                try:
                    group.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            uploads = [(item, answer) for kind, item, answer in group if kind == "upload"]
            verdicts = [(item, answer) for kind, item, answer in group if kind == "verdict"]
            try:
                digests = self.store.put_many([data for (_, data, _, _), _ in uploads])
                jobs, orphans = db.add_submissions(
                    self.engine, [(student_id, digest, filename, upload_name) for
                                  ((student_id, _, filename, upload_name), _), digest in zip(uploads, digests)],
                    rate_limit=self.rate_limit, exempt=self.exempt, verdicts=[item for item, _ in verdicts])
            except Exception as exc:  # every waiter hears of it; none is told it was stored
                for *_, answer in group:
                    answer.set_exception(exc)
                continue
            for digest in orphans:  # committed as rejected, and no other job names them
                try:
                    self.store.delete(digest)
                except OSError as exc:
                    self.log(f"could not delete a rejected upload's bytes {digest}: {exc}")
            for (_, answer), job in zip(uploads, jobs):
                if isinstance(job, db.RateLimited):
                    answer.set_exception(job)
                else:
                    answer.set_result(job)
            for _, answer in verdicts:
                answer.set_result(None)
