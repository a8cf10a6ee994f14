"""Interval and test maths against published or hand-worked values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from analysis import stats


def test_wilson_interval_for_8_of_10_at_95_percent_is_0_490_to_0_943():
    # Published value (e.g. Brown, Cai & DasGupta 2001 tables; any Wilson calculator).
    low, high = stats.wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=5e-4)
    assert high == pytest.approx(0.9433, abs=5e-4)


def test_wilson_interval_reaches_exactly_0_and_1_at_the_edges():
    assert stats.wilson_interval(0, 5)[0] == 0.0
    assert stats.wilson_interval(5, 5)[1] == 1.0
    # and is not degenerate there, unlike a Wald interval
    assert stats.wilson_interval(5, 5)[0] < 1.0


def test_an_empty_sample_gives_an_empty_rate_and_interval_not_zero():
    est = stats.rate_estimate(0, 0)
    assert (est.value, est.low, est.high, est.n, est.small) == (None, None, None, 0, True)
    assert stats.nps_estimate(0, 0, 0).value is None
    assert stats.nps_interval(0, 0, 0) == (None, None)
    assert stats.nps_variance(0, 0, 0) is None


def test_rate_estimate_is_in_percent_and_flags_fewer_than_30_as_small():
    est = stats.rate_estimate(8, 10)
    assert est.value == pytest.approx(80.0)
    assert est.low == pytest.approx(49.02, abs=0.05)
    assert est.small is True
    assert stats.rate_estimate(24, 30).small is False
    assert stats.rate_estimate(23, 29).small is True


def test_nps_variance_matches_a_hand_example_and_the_variance_of_the_scores():
    # 5 promoters, 3 passives, 2 detractors: p_P = .5, p_D = .2 -> .5 + .2 - .3^2 = .61
    assert stats.nps_variance(5, 3, 2) == pytest.approx(0.61)
    scores = np.array([1] * 5 + [0] * 3 + [-1] * 2)
    assert stats.nps_variance(5, 3, 2) == pytest.approx(scores.var())


def test_nps_value_follows_the_spec_formula():
    assert stats.nps_value(5, 3, 2) == pytest.approx(30.0)
    assert stats.nps_value(0, 0, 4) == pytest.approx(-100.0)


def test_plain_wald_nps_interval_is_nps_plus_minus_z_times_root_variance_over_n():
    low, high = stats.nps_interval(5, 3, 2, method="wald")
    half = 100 * 1.959964 * math.sqrt(0.61 / 10)  # 48.41 points
    assert low == pytest.approx(30 - half, abs=1e-3)
    assert high == pytest.approx(30 + half, abs=1e-3)


def test_adjusted_wald_nps_interval_adds_three_quarters_of_a_promoter_and_a_detractor():
    # Hand-worked: n' = 13, p_P = 5.75/13 = .44231, p_D = 2.75/13 = .21154,
    # var = .65385 - .23077^2 = .60059, se = .21494, 95% -> .23077 +/- .42128
    low, high = stats.nps_interval(5, 3, 2)
    assert low == pytest.approx(-19.05, abs=0.02)
    assert high == pytest.approx(65.20, abs=0.02)


def test_adjusted_wald_nps_interval_is_not_degenerate_when_every_answer_is_a_promoter():
    low, high = stats.nps_interval(10, 0, 0)
    assert high == pytest.approx(100.0)
    assert low < 85  # a plain Wald interval would be [100, 100]
    assert stats.nps_interval(10, 0, 0, method="wald") == (pytest.approx(100.0), pytest.approx(100.0))


def test_bootstrap_nps_interval_is_reproducible_and_close_to_the_wald_interval_for_a_large_sample():
    a = stats.nps_bootstrap_interval(300, 200, 100, seed=7)
    assert a == stats.nps_bootstrap_interval(300, 200, 100, seed=7)
    wald = stats.nps_interval(300, 200, 100, method="wald")
    assert a[0] == pytest.approx(wald[0], abs=1.0)
    assert a[1] == pytest.approx(wald[1], abs=1.0)


def test_newcombe_interval_for_a_difference_matches_newcombe_1998_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (56/70 vs 48/80), method 10:
    # difference .2000, interval .0524 to .3339.
    cmp = stats.compare_proportions(48, 80, 56, 70)
    assert cmp.diff == pytest.approx(20.0)
    assert cmp.low == pytest.approx(5.24, abs=0.01)
    assert cmp.high == pytest.approx(33.39, abs=0.01)


def test_two_proportion_z_test_agrees_with_the_uncorrected_chi_square_test():
    cmp = stats.compare_proportions(48, 80, 56, 70)
    chi2, p, _, _ = chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert cmp.z ** 2 == pytest.approx(chi2)
    assert cmp.p_value == pytest.approx(p)
    assert cmp.significant is True


def test_a_difference_involving_a_small_sample_is_never_marked_significant():
    cmp = stats.compare_proportions(0, 20, 20, 20)
    assert cmp.p_value < 1e-6
    assert cmp.significant is False


def test_one_promoter_against_one_detractor_is_not_a_significant_nps_change():
    # With per-sample variances (both 0) a naive test would call this infinitely significant.
    cmp = stats.compare_nps((0, 0, 1), (1, 0, 0), min_n=1)
    assert cmp.diff == pytest.approx(200.0)
    assert cmp.p_value > 0.05
    assert cmp.significant is False


def test_nps_change_test_uses_the_pooled_variance_under_the_null():
    a, b = (40, 30, 30), (60, 25, 15)
    cmp = stats.compare_nps(a, b)
    pooled = stats.nps_variance(100, 55, 45)
    z = (0.45 - 0.10) / math.sqrt(pooled * (1 / 100 + 1 / 100))
    assert cmp.diff == pytest.approx(35.0)
    assert cmp.z == pytest.approx(z)
    assert cmp.significant is True
    assert cmp.low < 35.0 < cmp.high


def test_an_equal_nps_is_not_significant():
    cmp = stats.compare_nps((40, 30, 30), (40, 30, 30))
    assert cmp.diff == 0 and cmp.p_value == pytest.approx(1.0) and cmp.significant is False


def test_comparison_with_an_empty_sample_is_empty():
    cmp = stats.compare_nps((0, 0, 0), (5, 5, 5))
    assert cmp.diff is None and cmp.significant is False
    assert stats.compare_proportions(1, 2, 0, 0).diff is None
