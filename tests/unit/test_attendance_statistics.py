"""The report figures against published values (each number's source is named next to it)."""

from __future__ import annotations

import math

import pytest

from notifier.attendance.statistics import compare, sample_size, wilson


def test_wilson_interval_matches_newcombe_1998() -> None:
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
    # Medicine 17:857-872, Table II: 81/263, Wilson score interval 0.2553 to 0.3662.
    interval = wilson(81, 263)
    assert interval is not None
    assert interval.low == pytest.approx(0.2553, abs=5e-5)
    assert interval.high == pytest.approx(0.3662, abs=5e-5)


def test_no_interval_without_observations() -> None:
    assert wilson(0, 0) is None
    assert compare(1, 10, 0, 0) is None


def test_difference_interval_matches_newcombe_1998() -> None:
    # Newcombe (1998), "Interval estimation for the difference between independent proportions",
    # Statistics in Medicine 17:873-890, example (a): 56/70 against 48/80, difference 0.2000,
    # method 10 (score interval, the one statsmodels calls "newcomb"): 0.0524 to 0.3339.
    comparison = compare(56, 70, 48, 80)
    assert comparison is not None
    assert comparison.difference == pytest.approx(0.2)
    assert comparison.interval.low == pytest.approx(0.0524, abs=5e-5)
    assert comparison.interval.high == pytest.approx(0.3339, abs=5e-5)


def test_two_proportion_test_matches_the_statsmodels_example() -> None:
    # statsmodels' proportions_ztest docstring example: counts 5 and 12 out of 83 and 99,
    # p-value printed as 0.159.
    comparison = compare(5, 83, 12, 99)
    assert comparison is not None
    assert round(comparison.p_value, 3) == 0.159
    assert comparison.z == pytest.approx(-1.408, abs=5e-4)


def test_sample_size_matches_cohens_table() -> None:
    # Cohen (1988), Statistical Power Analysis, Table 6.4.1: h = 0.20 at power 0.80 and two-sided
    # alpha 0.05 needs n = 392 per group. Rates 0.5 and 0.4 have h = 0.2014 (2 asin sqrt p).
    assert sample_size(0.5, 0.4) == 388  # h = 0.2014 needs slightly fewer than h = 0.20
    assert sample_size(0.3, 0.3) is None


def test_sample_size_at_cohens_small_effect() -> None:
    # Rates whose arcsine difference is exactly h = 0.20: sin^2 of 2 asin sqrt(0.5) / 2 - 0.1.
    p2 = math.sin(math.asin(math.sqrt(0.5)) - 0.1) ** 2
    assert sample_size(0.5, p2) == 393  # 392.44 rounded up, Cohen's table: 392
