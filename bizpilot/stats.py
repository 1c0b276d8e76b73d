"""Small statistics shared by evaluation, analytics and benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def rate(part: float, whole: float | None) -> float | None:
    """part / whole to four places; None when there is nothing to divide by (never a made-up 0 or 100%)."""
    return round(part / whole, 4) if whole else None


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q`th percentile (0 to 100) of a non-empty sequence."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class ProportionDifference:
    """The difference of two rates, a - b, with its 95% confidence interval (Newcombe's hybrid score interval,
    from Wilson intervals: sound for small counts and rates near 0 or 1) and a two-sided p-value (pooled z-test)."""

    rate_a: float | None
    rate_b: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool  # the interval leaves out 0


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ProportionDifference:
    if n_a == 0 or n_b == 0:
        rate_a = successes_a / n_a if n_a else None
        rate_b = successes_b / n_b if n_b else None
        return ProportionDifference(rate_a, rate_b, None, None, None, None, False)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson_interval(successes_a, n_a)
    low_b, high_b = wilson_interval(successes_b, n_b)
    difference = p_a - p_b
    low = difference - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p_value = math.erfc(abs(difference) / se / math.sqrt(2)) if se > 0 else 1.0
    return ProportionDifference(
        round(p_a, 4),
        round(p_b, 4),
        round(difference, 4),
        round(low, 4),
        round(high, 4),
        round(p_value, 4),
        low > 0 or high < 0,
    )
