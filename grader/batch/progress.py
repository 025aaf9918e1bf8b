"""A batch's progress on standard error: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading

from grader.batch.summary import StudentOutcome
from grader.intake.class_folder import Student
from grader.grading.result import GradeResult
from grader.grading.result_words import summary_line


class BatchLog:
    """A tqdm bar on a terminal; one plain line per finished student otherwise."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.bar = None
        self.total = 0
        self.done = 0
        self.failed = 0
        self.not_gradable = 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total = total
        if self.enabled and _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="student", dynamic_ncols=True)
            self.bar.set_postfix(failed=0, not_gradable=0)
        else:
            self.message(f"grading {total} submission{'s' * (total != 1)}")

    def warning(self, text: str) -> None:
        """Said on stderr even without progress output: something the user asked for was changed."""
        if self.enabled:
            self.message(text)
        else:
            print(text, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            if self.bar is not None:
                self.bar.write(text, file=self.stream)
            else:
                print(text, file=self.stream, flush=True)

    def finished(self, student: Student, outcome: StudentOutcome, result: GradeResult | None) -> None:
        self.done += 1
        if outcome.status == "not_gradable":
            self.not_gradable += 1
        elif result is not None and result.score < result.max_score:
            self.failed += 1
        if self.bar is not None:
            with self.lock:
                self.bar.update(1)
                self.bar.set_postfix(failed=self.failed, not_gradable=self.not_gradable)
            if outcome.status == "not_gradable":
                self.message(f"{student.id}: NOT GRADABLE: {outcome.message}")
        elif result is not None:
            self.message(f"[{self.done}/{self.total}] {summary_line(result)} ({result.wall_time_s:.1f} s)")
        else:
            self.message(f"[{self.done}/{self.total}] {student.id}: {outcome.status}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
