"""Units of the trusted harness: confidence intervals, trial budget, the arena, the checks,
the timing lock (a scratch folder with a mount inside: tests/test_harness_units.py)."""

from __future__ import annotations

import fcntl
import os

import numpy as np
import pytest

from grader.harness.checks import compare, rel_error
from grader.harness.protocol import Arena, ProtocolError
from grader.harness.timing import TrialBudget, median_ci, summarize_pairs
from grader.harness.timing_lock import TimingLock
from grader.harness.call_outcome import Returned


def test_median_ci_small_samples_report_their_true_coverage():
    assert median_ci([3.0, 1.0, 2.0]) == (1.0, 3.0, 0.75)
    low, high, level = median_ci([float(v) for v in range(6)])
    assert (low, high) == (0.0, 5.0) and level == pytest.approx(1 - 2 / 64)


def test_median_ci_narrows_with_more_trials():
    # For 41 values the 95% interval of the median is [x_(14), x_(28)] (order statistics),
    # with coverage 1 - 2 P(Binomial(41, 1/2) <= 13) = 0.9725; one step narrower is below 95%.
    low, high, level = median_ci([float(v) for v in range(41)])
    assert (low, high) == (13.0, 27.0)
    assert level == pytest.approx(0.97247, abs=1e-5)


def test_summarize_pairs_uses_median_of_per_trial_ratios():
    summary = summarize_pairs([2.0, 4.0, 2.0], [1.0, 1.0, 3.0])
    assert summary.speedup == 0.5  # ratios 0.5, 0.25, 1.5
    assert summary.student_median_s == 2.0 and summary.reference_median_s == 1.0
    assert (summary.ci_low, summary.ci_high, summary.trials) == (0.25, 1.5, 3)


@pytest.mark.parametrize("done, spent, wants", [
    pytest.param(0, 0.0, True, id="below-minimum"),
    pytest.param(3, 6.0, False, id="slow-code-stops-at-minimum"),
    pytest.param(3, 0.03, True, id="fast-code-continues"),
    pytest.param(41, 0.4, False, id="maximum-reached"),
])
def test_trial_budget(done, spent, wants):
    assert TrialBudget(budget_s=1.0, min_trials=3, max_trials=41).wants_more(done, spent) is wants


def test_arena_round_trip_and_sealing():
    arena = Arena.create(1024, 1024)
    try:
        descriptors = arena.put({"x": np.arange(6.0).reshape(2, 3)}, start=0, end=arena.request_bytes)
        assert np.array_equal(arena.view(descriptors["x"]), np.arange(6.0).reshape(2, 3))
        with pytest.raises(PermissionError):  # sealed: a worker cannot shrink it under the harness
            os.ftruncate(arena.fd, 0)
        assert fcntl.fcntl(arena.fd, fcntl.F_GET_SEALS) & fcntl.F_SEAL_SHRINK
    finally:
        arena.close()


@pytest.mark.parametrize("descriptor, message", [
    pytest.param({"dtype": "|O", "shape": [1], "offset": 1024}, "not transferable", id="object-dtype"),
    pytest.param({"dtype": "<c16", "shape": [1], "offset": 1024}, "not transferable", id="complex"),
    pytest.param({"dtype": "<f8", "shape": [1], "offset": 0}, "outside the response region", id="request-region"),
    pytest.param({"dtype": "<f8", "shape": [10**9], "offset": 1024}, "outside the response region", id="too-big"),
    pytest.param({"dtype": "<f8", "shape": [-1], "offset": 1024}, "bad shape", id="negative-shape"),
    pytest.param({"dtype": "<f8", "shape": [1], "offset": 1030}, "bad offset", id="misaligned"),
    pytest.param("not a dict", "not an object", id="not-an-object"),
])
def test_arena_refuses_untrusted_descriptors(descriptor, message):
    arena = Arena.create(1024, 1024)
    try:
        with pytest.raises(ProtocolError, match=message):
            arena.fetch_response(descriptor, "out")
    finally:
        arena.close()


EXPECTED = np.array([[1.0, -2.0], [3.0, 4.0]])
WHERE = "at pad 0, stride 1 (x (1, 1, 2, 2), w (1, 1, 1, 1))"


def array(values) -> Returned:
    values = np.asarray(values)
    return Returned("array", dtype_name=values.dtype.name, shape=values.shape, array=values)


@pytest.mark.parametrize("returned, message", [
    pytest.param(Returned("none"), "out is None at pad 0", id="none"),
    pytest.param(Returned("other", type_name="list"), "out is a list, expected a numpy.ndarray", id="list"),
    pytest.param(array(np.zeros((2, 3))), "out has shape (2, 3), expected (2, 2) at pad 0", id="shape"),
    pytest.param(Returned("array", dtype_name="int64", shape=(2, 2)), "out has dtype int64, expected float64",
                 id="dtype"),
    pytest.param(array([[np.nan, 1.0], [np.inf, 4.0]]), "out has 1 NaN and 1 infinite values", id="not-finite"),
    pytest.param(array([[1.0, -2.0], [3.0, 5.0]]),
                 "out is wrong at pad 0, stride 1 (x (1, 1, 2, 2), w (1, 1, 1, 1)): rel_error 1.11e-01 > tolerance "
                 "1e-07; 1 of 4 elements differ, first at (1, 1) (got 5, expected 4)", id="values"),
])
def test_compare_reports_the_first_failure_in_order(returned, message):
    verdict = compare("out", returned, EXPECTED, 1e-7, WHERE)
    assert not verdict.passed
    assert message in verdict.message


def test_compare_hints_float32_precision():
    got = EXPECTED.astype(np.float32).astype(np.float64) * (1 + 3e-6)
    verdict = compare("out", array(got), EXPECTED, 1e-7, WHERE)
    assert not verdict.passed and "looks like float32 precision" in verdict.message


def test_compare_passes_exact_answers_and_rel_error_matches_the_notebook():
    assert compare("out", array(EXPECTED.copy()), EXPECTED, 1e-7, WHERE).passed
    assert rel_error(np.array([1.0]), np.array([1.0 + 2e-8])) == pytest.approx(1e-8, rel=1e-6)


@pytest.mark.parametrize("returned, passed, message", [
    pytest.param(array(np.array(2.302585)), True, "loss: rel_error 0.00e+00", id="right"),
    pytest.param(array(np.array(3.302585)), False, "loss is wrong at N 50: rel_error 1.78e-01 > tolerance 1e-07; "
                 "1 of 1 elements differ, first at () (got 3.30259, expected 2.30259)", id="wrong"),
    pytest.param(array(np.array(np.nan)), False, "loss has 1 NaN and 0 infinite values at N 50, first at ()",
                 id="nan"),
    pytest.param(array(np.array(2.302585, dtype=np.float32)), False, "loss has dtype float32, expected float64",
                 id="float32"),
    pytest.param(array(np.array([2.302585])), False, "loss has shape (1,), expected ()", id="shape"),
    pytest.param(Returned("other", type_name="int"), False, "loss is a int, expected a float at N 50", id="int"),
])
def test_compare_judges_a_scalar_result_as_a_0d_array(returned, passed, message):
    """A loss arrives as a 0-d array (the worker sends a float or numpy float so): the same
    checks in the same order, and the messages read for a scalar."""
    verdict = compare("loss", returned, np.array(2.302585), 1e-7, "at N 50")
    assert verdict.passed == passed
    assert message in verdict.message, verdict.message


def test_timing_lock_keeps_timing_apart_from_any_other_work(tmp_path):
    TimingLock.create_files(str(tmp_path))
    mine, other = TimingLock(str(tmp_path)), TimingLock(str(tmp_path))  # two gradings of one batch
    readers_writer = other.fds[0]
    with mine.shared():
        with other.shared():  # correctness cases run side by side
            pass
        with pytest.raises(BlockingIOError):  # a timing waits for the case to finish
            fcntl.flock(readers_writer, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with mine.exclusive():
        with pytest.raises(BlockingIOError):  # and nothing else runs beside a timing
            fcntl.flock(readers_writer, fcntl.LOCK_SH | fcntl.LOCK_NB)
    with other.exclusive():  # released afterwards
        pass


def test_a_waiting_timing_goes_before_new_cases(tmp_path):
    """The turnstile: while a timing waits, a new case cannot slip in ahead of it."""
    TimingLock.create_files(str(tmp_path))
    timing, case = TimingLock(str(tmp_path)), TimingLock(str(tmp_path))
    fcntl.flock(timing.fds[1], fcntl.LOCK_EX)  # the timing has entered the turnstile and waits
    with pytest.raises(BlockingIOError):
        fcntl.flock(case.fds[1], fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(timing.fds[1], fcntl.LOCK_UN)


def test_timing_lock_without_a_folder_does_nothing():
    lock = TimingLock(None)
    with lock.shared(), lock.exclusive():
        assert lock.fds is None


