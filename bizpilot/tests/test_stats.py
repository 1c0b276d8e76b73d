"""The confidence interval of a difference of two rates, against published values (Newcombe 1998, method 10)."""

from __future__ import annotations

import pytest

from bizpilot.stats import proportion_difference, wilson_interval


def test_wilson_interval_matches_the_published_example():
    low, high = wilson_interval(81, 263)  # Newcombe 1998, table I
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("counts", "interval"),
    [((56, 70, 48, 80), (0.0524, 0.3339)), ((9, 10, 3, 10), (0.1705, 0.8090))],
)
def test_newcombes_hybrid_score_interval_matches_the_published_examples(counts, interval):
    result = proportion_difference(*counts)
    assert (result.ci_low, result.ci_high) == pytest.approx(interval, abs=1e-3)
    assert result.significant  # each of these intervals leaves out zero


def test_a_difference_whose_interval_includes_zero_is_not_significant():
    result = proportion_difference(5, 50, 4, 50)
    assert result.difference == 0.02 and result.ci_low < 0 < result.ci_high
    assert not result.significant and result.p_value > 0.5


def test_no_leads_in_a_group_gives_no_difference_at_all():
    result = proportion_difference(3, 10, 0, 0)
    assert (result.rate_a, result.rate_b, result.difference, result.significant) == (0.3, None, None, False)
