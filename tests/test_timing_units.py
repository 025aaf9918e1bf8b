"""The worker's CPU clock as the harness reads it, on real child processes: a stopped process
accrues none, sleep is not counted, and outputs are read from the other process's memory
(runs, blocks and the regrade interval: tests/unit/harness/test_timing_units.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from grader.harness.timing import process_cpu_clock, worker_cpu_ns
from grader.harness.worker_replies import can_read_memory_of, read_process_memory


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
