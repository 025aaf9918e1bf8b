"""The timed quantity and the figure: the worker's CPU clock as the harness reads it,
outputs read from the worker's memory, and the interval over worker pairs."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from grader.harness.timing import process_cpu_clock, summarize_blocks, t_quantile_975, worker_cpu_ns
from grader.harness.workers import can_read_memory_of, read_process_memory

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\nprint('done', flush=True)\ntime.sleep(60)\n"


def test_the_clock_of_another_process_counts_its_cpu_not_its_sleep():
    child = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=0.3)], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"done\n"
        first = worker_cpu_ns(child.pid)
        time.sleep(0.2)  # it sleeps now: its clock stands still
        assert worker_cpu_ns(child.pid) - first < 5_000_000
        assert first >= 300_000_000  # it computed 0.3 s (plus its start-up)
    finally:
        child.kill()
        child.wait()
    assert process_cpu_clock(1234) == ((~1234) << 3) | 2
    with pytest.raises(OSError):
        worker_cpu_ns(child.pid)  # gone


def test_a_stopped_process_accrues_no_cpu():
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.1)
        child.send_signal(signal.SIGSTOP)
        time.sleep(0.05)
        stopped = worker_cpu_ns(child.pid)
        time.sleep(0.2)
        assert worker_cpu_ns(child.pid) == stopped
    finally:
        child.kill()
        child.wait()


def test_outputs_are_read_from_the_other_process_memory():
    child = subprocess.Popen([sys.executable, "-c", "import ctypes, time\n"
                              "a = (ctypes.c_double * 4)(1.5, 2.5, 3.5, 4.5)\n"
                              "print(ctypes.addressof(a), flush=True)\ntime.sleep(60)\n"],
                             stdout=subprocess.PIPE)
    try:
        address = int(child.stdout.readline())
        assert can_read_memory_of(child.pid)
        target = np.empty(4)
        assert read_process_memory(child.pid, address, target) == 32
        assert target.tolist() == [1.5, 2.5, 3.5, 4.5]
        assert read_process_memory(child.pid, 8, np.empty(1)) < 0  # unmapped: an error, never garbage
    finally:
        child.kill()
        child.wait()
    assert not can_read_memory_of(child.pid)


def test_several_pairs_give_a_t_interval_over_pair_figures():
    # Three pairs whose per-trial ratios have medians 1.0, 1.1 and 1.2.
    student = [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    reference = [[0.9, 1.0, 1.1], [1.0, 1.1, 1.2], [1.1, 1.2, 1.3]]
    summary = summarize_blocks(student, reference)
    logs = [math.log(v) for v in (1.0, 1.1, 1.2)]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 2)
    assert summary.pair_speedups == pytest.approx([1.0, 1.1, 1.2])
    assert summary.speedup == pytest.approx(math.exp(mean))
    assert summary.ci_low == pytest.approx(math.exp(mean - 4.303 * sd / math.sqrt(3)))
    assert summary.ci_high == pytest.approx(math.exp(mean + 4.303 * sd / math.sqrt(3)))
    assert summary.ci_level == 0.95 and summary.trials == 9
    assert summary.ci_method == "t-interval over 3 worker pairs"
    wider = summarize_blocks(student, reference, between_gradings_cv=0.02)
    assert wider.ci_low < summary.ci_low and wider.ci_high > summary.ci_high
    assert "2.0% between gradings" in wider.ci_method
    assert t_quantile_975(1) == 12.706 and t_quantile_975(100) == 1.96


def test_one_pair_keeps_the_order_statistics_interval_and_its_true_level():
    summary = summarize_blocks([[1.0] * 9], [[0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]])
    assert summary.speedup == pytest.approx(1.2)
    assert summary.ci_level == pytest.approx(0.9609, abs=1e-4)  # not 95%: 9 trials give 96.09%
    assert "order-statistics" in summary.ci_method


def test_pairs_must_match():
    with pytest.raises(ValueError):
        summarize_blocks([[1.0, 1.0]], [[1.0]])
