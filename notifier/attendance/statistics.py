"""The figures of the reports, computed by statsmodels rather than by hand.

- ``wilson``: a proportion's 95 % Wilson score interval (``proportion_confint``).
- ``compare``: two arms' difference with Newcombe's interval (``confint_proportions_2indep``),
  the pooled two-proportion z test (``proportions_ztest``) and the sample size per arm for
  80 % power at the observed difference (``NormalIndPower`` with ``proportion_effectsize``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """An arm against the first arm: ``difference`` is this arm's rate minus the first arm's."""

    difference: float
    interval: Interval
    z: float | None
    p_value: float | None
    n_per_arm_for_80_power: int | None  # None when the rates are equal: no size would detect 0


def wilson(count: int, nobs: int) -> Interval | None:
    """The 95 % Wilson score interval of ``count`` out of ``nobs`` (None without observations)."""
    if nobs <= 0:
        return None
    low, high = proportion_confint(count, nobs, alpha=ALPHA, method="wilson")
    return Interval(float(low), float(high))


def wilson_many(counts: list[int], nobs: list[int]) -> list[Interval | None]:
    """``wilson`` for many proportions in one vectorised call (a report has hundreds of groups)."""
    if not counts:
        return []
    observed = np.array(nobs, dtype=float)
    safe = np.where(observed > 0, observed, 1.0)  # groups without observations get None below
    lows, highs = proportion_confint(np.array(counts, dtype=float), safe, alpha=ALPHA, method="wilson")
    return [
        Interval(float(low), float(high)) if n > 0 else None
        for low, high, n in zip(np.atleast_1d(lows), np.atleast_1d(highs), nobs, strict=True)
    ]


def compare(count: int, nobs: int, first_count: int, first_nobs: int) -> Comparison | None:
    """Compare ``count/nobs`` with the first arm's ``first_count/first_nobs`` (None if either is empty)."""
    if nobs <= 0 or first_nobs <= 0:
        return None
    low, high = confint_proportions_2indep(
        count, nobs, first_count, first_nobs, method="newcomb", compare="diff", alpha=ALPHA
    )
    z, p_value = _z_test(count, nobs, first_count, first_nobs)
    rate, first_rate = count / nobs, first_count / first_nobs
    return Comparison(
        difference=rate - first_rate,
        interval=Interval(float(low), float(high)),
        z=z,
        p_value=p_value,
        n_per_arm_for_80_power=sample_size(rate, first_rate),
    )


def _z_test(count: int, nobs: int, first_count: int, first_nobs: int) -> tuple[float | None, float | None]:
    pooled = (count + first_count) / (nobs + first_nobs)
    if pooled in (0.0, 1.0):  # no variance: every outcome the same in both arms
        return None, None
    z, p_value = proportions_ztest(np.array([count, first_count]), np.array([nobs, first_nobs]))
    return float(z), float(p_value)


def sample_size(rate: float, first_rate: float) -> int | None:
    """Appointments with an outcome each arm needs to detect ``rate`` against ``first_rate``."""
    effect = proportion_effectsize(rate, first_rate)
    if effect == 0:
        return None
    n = NormalIndPower().solve_power(effect_size=abs(effect), alpha=ALPHA, power=POWER, ratio=1.0)
    return math.ceil(float(n))
