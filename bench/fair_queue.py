"""The ideal fair queue: what time to feedback a rush would have with no service in the way.

bench_rush.py replays its arrivals here, each submission with the grading time the real
grading measured, through ``slots`` grading slots that start a job the instant one is
free and cost nothing to dispatch. The order is the fair one the service promises: among
the waiting submissions, the student with the fewest gradings started so far goes first,
then the earliest arrival (then the lower index, so equal arrivals are decided). A
student's first submission thus passes every resubmission that waits beside it, and
nobody starves, since a started grading only ever raises its student's count.

The real service's time to feedback, divided by this one's, is what its own overhead and
ordering cost. Pure arithmetic: no clock, no process.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    student: str
    arrival_s: float
    grading_s: float


def finish_times(jobs: list[Job], slots: int) -> list[float]:
    """When each job (in the order given) finishes in the ideal fair queue with ``slots`` slots."""
    if slots < 1:
        raise ValueError(f"the queue needs at least one slot, not {slots}")
    arriving = sorted(range(len(jobs)), key=lambda index: (jobs[index].arrival_s, index))
    finished: list[float | None] = [None] * len(jobs)
    running: list[tuple[float, int]] = []  # (finish time, job index), a heap
    waiting: list[int] = []
    started: Counter[str] = Counter()
    now, next_arrival = 0.0, 0
    while next_arrival < len(arriving) or waiting or running:
        while next_arrival < len(arriving) and jobs[arriving[next_arrival]].arrival_s <= now:
            waiting.append(arriving[next_arrival])
            next_arrival += 1
        while running and running[0][0] <= now:
            heapq.heappop(running)
        while waiting and len(running) < slots:
            chosen = min(waiting, key=lambda index: (started[jobs[index].student], jobs[index].arrival_s, index))
            waiting.remove(chosen)
            started[jobs[chosen].student] += 1
            finished[chosen] = now + jobs[chosen].grading_s
            heapq.heappush(running, (finished[chosen], chosen))
        events = [finish for finish, _ in running[:1]]
        if next_arrival < len(arriving):
            events.append(jobs[arriving[next_arrival]].arrival_s)
        if not events:
            break
        now = max(now, min(events))
    return finished  # type: ignore[return-value]  # every job was started above


def times_to_feedback(jobs: list[Job], slots: int) -> list[float]:
    """Each job's finish minus its arrival, in the order given."""
    return [finish - job.arrival_s for job, finish in zip(jobs, finish_times(jobs, slots))]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (the value at rank round(fraction * (n - 1)) of the sorted
    values), the rule bench_service.py reports with."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
