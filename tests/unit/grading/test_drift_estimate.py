"""The between-gradings spread of A/A gradings' figures: its CV and upper bound, on exact inputs."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2

from grader.grading.drift_estimate import CONFIDENCE, Spread, chi2_quantile, spread


def test_three_figures_whose_logs_are_one_percent_apart():
    # logs -0.01, 0, 0.01: their sample standard deviation is exactly 0.01. With two degrees of
    # freedom the chi-square quantile has a closed form, -2 ln(0.95), so the bound is exact too.
    figures = [math.exp(-0.01), 1.0, math.exp(0.01)]
    result = spread(figures)
    assert result.gradings == 3
    assert result.cv == pytest.approx(math.expm1(0.01), rel=1e-12)
    assert result.cv_upper == pytest.approx(math.expm1(0.01 * math.sqrt(2 / (-2 * math.log(CONFIDENCE)))), rel=1e-9)
    assert result.cv_upper == pytest.approx(0.04515, abs=1e-5)  # 4.4 times the sample's own 1%


def test_identical_figures_have_no_spread():
    assert spread([0.93, 0.93, 0.93, 0.93]) == Spread(4, 0.0, 0.0)


def test_more_gradings_tighten_the_bound_for_the_same_sample_spread():
    # Four copies of the same three figures: the sample's CV moves little (2.0% -> 1.7%),
    # the bound falls from 9.2% to 2.7%.
    few, many = spread([0.98, 1.0, 1.02]), spread([0.98, 1.0, 1.02] * 4)
    assert (round(few.cv, 4), round(few.cv_upper, 4)) == (0.0202, 0.0923)
    assert (round(many.cv, 4), round(many.cv_upper, 4)) == (0.0172, 0.0268)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 30, 100])
@pytest.mark.parametrize("p", [0.05, 0.5, 0.95])
def test_chi2_quantile_matches_scipy(df, p):
    assert chi2_quantile(p, df) == pytest.approx(chi2.ppf(p, df), rel=1e-9)


@pytest.mark.parametrize("figures", [[1.0], [], [1.0, 0.0], [1.0, -2.0], [1.0, math.inf], [1.0, math.nan]])
def test_refuses_what_is_not_a_sample_of_figures(figures):
    with pytest.raises(ValueError, match="need at least two positive, finite figures"):
        spread(figures)
