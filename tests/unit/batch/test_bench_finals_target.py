"""The finals benchmark's CV target: the median pair and the largest both under 1.5%."""

from __future__ import annotations

from bench.bench_finals import cv_target


def test_a_single_pair_over_the_target_fails_it_though_the_median_is_under():
    met, line = cv_target([0.004, 0.006, 0.008, 0.021])
    assert not met
    assert line == "paired CV target 1.5%: median 0.70%, largest 2.10%, 3 of 4 pairs (75%) under it: NOT met"


def test_every_pair_under_the_target_meets_it():
    assert cv_target([0.004, 0.006, 0.0149]) == (
        True, "paired CV target 1.5%: median 0.60%, largest 1.49%, 3 of 3 pairs (100%) under it: met")
