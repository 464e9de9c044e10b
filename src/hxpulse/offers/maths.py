"""The numbers behind serving and the report: the bandit's draw, intervals for rates and means.

Pure: numbers in, numbers out (no database), tested against hand-computed values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the two-sided 95% normal quantile
PRIOR = 2.0  # how many exposures' worth the model's score weighs in the bandit's prior


def prior(model_share: float) -> tuple[float, float]:
    """Beta(α, β) before any response: uniform Beta(1, 1) moved towards the model's score
    (`model_share`, 0..1: the offer's score over the best candidate's) by PRIOR pseudo-counts."""
    share = min(max(model_share, 0.0), 1.0)
    return 1.0 + PRIOR * share, 1.0 + PRIOR * (1.0 - share)


def draw(model_share: float, shown: int, accepted: int, rng: random.Random) -> float:
    """One Thompson draw of the offer's acceptance rate: Beta(α + accepted, β + not accepted)."""
    alpha, beta = prior(model_share)
    return rng.betavariate(alpha + accepted, beta + max(shown - accepted, 0))


def draws(
    shares: Sequence[float] | np.ndarray,
    shown: Sequence[int] | np.ndarray,
    accepted: Sequence[int] | np.ndarray,
    rng: random.Random,
) -> np.ndarray:
    """`draw` for many offers at once (NumPy, seeded from `rng`: the same `rng` state gives
    the same draws)."""
    if not len(shares):
        return np.zeros(0)
    share = np.clip(np.asarray(shares, dtype=float), 0.0, 1.0)
    n = np.asarray(shown, dtype=float)
    a = np.asarray(accepted, dtype=float)
    generator = np.random.default_rng(rng.getrandbits(64))
    alpha = 1.0 + PRIOR * share + a
    beta = 1.0 + PRIOR * (1.0 - share) + np.maximum(n - a, 0.0)
    return np.asarray(generator.beta(alpha, beta), dtype=float)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None


NONE = Interval(None, None, None)


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval of a rate (Wilson 1927): good at small n and near 0 or 1."""
    if n <= 0:
        return NONE
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def rate_difference(a: tuple[int, int], b: tuple[int, int], z: float = Z95) -> Interval:
    """The difference of two rates a − b (successes, n each) with Newcombe's hybrid score
    interval (Newcombe 1998, method 10), built from the two Wilson intervals."""
    wa, wb = wilson(*a, z=z), wilson(*b, z=z)
    if wa.estimate is None or wb.estimate is None:
        return NONE
    assert wa.low is not None and wa.high is not None and wb.low is not None
    assert wb.high is not None
    d = wa.estimate - wb.estimate
    low = d - math.sqrt((wa.estimate - wa.low) ** 2 + (wb.high - wb.estimate) ** 2)
    high = d + math.sqrt((wa.high - wa.estimate) ** 2 + (wb.estimate - wb.low) ** 2)
    return Interval(d, low, high)


@dataclass(frozen=True, slots=True)
class Moments:
    """n, Σx and Σx² of a sample: enough for its mean and that mean's standard error."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance_of_mean(self) -> float | None:
        if self.n < 2:
            return None
        mean = self.total / self.n
        variance = max(self.squares - self.n * mean * mean, 0.0) / (self.n - 1)
        return variance / self.n


def mean_interval(m: Moments, z: float = Z95) -> Interval:
    """The mean with a normal-approximation interval (revenue per offer shown)."""
    var = m.variance_of_mean
    if m.mean is None:
        return NONE
    if var is None:
        return Interval(m.mean, None, None)
    half = z * math.sqrt(var)
    return Interval(m.mean, m.mean - half, m.mean + half)


def mean_difference(a: Moments, b: Moments, z: float = Z95) -> Interval:
    """a's mean − b's mean with the Welch (unpooled) normal interval."""
    va, vb = a.variance_of_mean, b.variance_of_mean
    if a.mean is None or b.mean is None:
        return NONE
    d = a.mean - b.mean
    if va is None or vb is None:
        return Interval(d, None, None)
    half = z * math.sqrt(va + vb)
    return Interval(d, d - half, d + half)
