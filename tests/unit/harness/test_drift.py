"""Which between-gradings spread an interval uses: the host's measured one, never below the floor."""

from __future__ import annotations

import pytest

from grader.harness.drift import FLOOR_SOURCE, between_gradings
from grader.harness.timing import summarize_blocks

MEASURED = {"cv": 0.041, "measured_at": "2026-12-08T02:00:00Z", "gradings": 6}


def test_no_measurement_uses_the_configured_constant():
    assert between_gradings(0.02, None) == (0.02, "the constant floor")


def test_a_measurement_above_the_floor_is_used_and_named():
    assert between_gradings(0.02, MEASURED) == (0.041, "measured on this host (6 A/A gradings, 2026-12-08T02:00:00Z)")


def test_a_measurement_below_the_floor_keeps_the_floor_and_says_why():
    assert between_gradings(0.05, MEASURED) == (0.05, "the constant floor (this host's measured 4.1% is below it)")


@pytest.mark.parametrize("bad", [{}, {"cv": "0.04", "measured_at": "x", "gradings": 3}, {**MEASURED, "cv": 0.9},
                                 {**MEASURED, "cv": True}, {**MEASURED, "gradings": None}, [0.04]])
def test_a_malformed_measurement_falls_back_to_the_floor(bad):
    assert between_gradings(0.02, bad) == (0.02, FLOOR_SOURCE)


def test_the_interval_names_its_source_and_widens_with_the_measured_spread():
    student, reference = [[1.0, 1.0], [1.0, 1.02], [1.0, 0.99]], [[2.0, 2.0]] * 3
    floor = summarize_blocks(student, reference, 0.02, drift_source=FLOOR_SOURCE)
    cv, source = between_gradings(0.02, MEASURED)
    measured = summarize_blocks(student, reference, cv, drift_source=source)
    assert floor.ci_method == ("regrade interval over 3 worker pairs (A B B A runs), with 2.0% between gradings "
                               "(the constant floor)")
    assert measured.ci_method == ("regrade interval over 3 worker pairs (A B B A runs), with 4.1% between gradings "
                                  "(measured on this host (6 A/A gradings, 2026-12-08T02:00:00Z))")
    assert measured.speedup == floor.speedup
    assert measured.ci_high - measured.ci_low > floor.ci_high - floor.ci_low
