"""The ideal fair queue bench_rush.py compares the service with, on cases worked by hand."""

from __future__ import annotations

import pytest

from bench.fair_queue import Job, finish_times, percentile, times_to_feedback


def test_a_newcomer_passes_a_resubmitter_waiting_beside_it():
    # One slot. A sends three at 0, B one at 1. A's first runs 0-10; at 10 B (no grading
    # started) goes before A's second and third (A has one started): 10-15, then A 15-25, 25-35.
    jobs = [Job("A", 0, 10), Job("A", 0, 10), Job("A", 0, 10), Job("B", 1, 5)]
    assert finish_times(jobs, 1) == [10, 25, 35, 15]
    assert times_to_feedback(jobs, 1) == [10, 25, 35, 14]


def test_two_slots_equal_counts_go_by_arrival():
    # t=0: A(0-4) and B(0-2) start; C and A's second arrive at 1 and wait. t=2: C (none
    # started) before A (one): 2-3. t=3: C's second arrives; A's second and C's second both
    # have one started, A arrived first: 3-4. t=4: C's second 4-6.
    jobs = [Job("A", 0, 4), Job("B", 0, 2), Job("C", 1, 1), Job("A", 1, 1), Job("C", 3, 2)]
    assert finish_times(jobs, 2) == [4, 2, 3, 4, 6]
    assert times_to_feedback(jobs, 2) == [4, 2, 2, 3, 3]


def test_simultaneous_first_submissions_go_in_the_order_given():
    assert finish_times([Job("A", 0, 1), Job("B", 0, 2), Job("C", 0, 3)], 1) == [1, 3, 6]


def test_an_idle_slot_starts_a_late_arrival_at_once():
    assert times_to_feedback([Job("A", 0, 1), Job("B", 5, 1)], 1) == [1, 1]


def test_more_slots_than_jobs_wait_for_nothing():
    jobs = [Job("A", 0, 3), Job("A", 0, 3), Job("B", 2, 1)]
    assert times_to_feedback(jobs, 3) == [3, 3, 1]


def test_no_slot_is_refused():
    with pytest.raises(ValueError, match="at least one slot, not 0"):
        finish_times([Job("A", 0, 1)], 0)


def test_nearest_rank_percentile():
    values = [float(v) for v in range(21, 0, -1)]  # 21 down to 1
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (11, 20, 21)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)
