"""NPS, CSAT and CES from score counts, with 95 % intervals and significance tests.

Inputs are counts per score, because the store keeps answers rolled up: a sequence of 11
integers indexed by score 0..10. NPS uses all of them; CSAT only indexes 1..5 and CES only
1..7 (a count elsewhere is a caller's bug and raises `ValueError`).

NPS. Each answer is +1 (promoter, 9–10), 0 (passive, 7–8) or −1 (detractor, 0–6); NPS is the
mean of that score in points, 100·(p_P − p_D). The variance of one answer is
v = p_P + p_D − (p_P − p_D)², so the NPS estimate has variance v/n (the multinomial variance)
and its 95 % margin of error is 1.96·sqrt(v/n)·100 points. (When every answer falls in one
group, v and so the margin are 0: the normal approximation's known blind spot at the ends.)

CSAT is the share of 4–5 answers; its interval is the Wilson score interval, which stays
inside 0..100 % and is asymmetric near the ends (where the normal interval collapses to zero
width). `margin_of_error` is the Wilson half-width, (high − low)/2.

CES is the mean of 1..7 with a Student t interval from the sample variance of the counts;
`easy_pct` is the share of 5–7 answers with its Wilson interval.

Fewer than `MIN_READABLE` answers sets `too_small`: show the figure but do not read it. With no
answers the statistics are `None` (there is no score), never a division error.

Comparisons (`compare_nps`, `compare_proportions`, `compare_csat`) treat the two groups as
independent samples: difference a − b, standard error sqrt(v_a/n_a + v_b/n_b) (unpooled, so the
difference is significant exactly when its 95 % interval excludes 0), two-sided p from the
normal distribution, 2·(1 − Φ(|z|)) = erfc(|z|/√2) (what scipy.stats.norm.sf gives, without
importing scipy.stats for it; scipy is imported only for the t quantile of CES).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

MIN_READABLE = 30
CONFIDENCE = 0.95
Z95 = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054
SCORES = 11  # 0..10


def counts_of(scores: Iterable[int]) -> list[int]:
    """Roll individual 0..10 scores up into the 11 counts the functions here take."""
    counts = [0] * SCORES
    for score in scores:
        if not 0 <= score < SCORES:
            raise ValueError(f"score {score} is outside 0..10")
        counts[score] += 1
    return counts


def _checked(counts: Sequence[int], used: range) -> Sequence[int]:
    if len(counts) != SCORES:
        raise ValueError(f"counts must have 11 entries (scores 0..10), got {len(counts)}")
    for score, count in enumerate(counts):
        if count < 0:
            raise ValueError(f"count for score {score} is negative: {count}")
        if count and score not in used:
            raise ValueError(
                f"count {count} for score {score}, outside {used.start}..{used.stop - 1}"
            )
    return counts


@dataclass(frozen=True, slots=True)
class Interval:
    """A 95 % interval of a percentage: low and high in points, margin = half the width."""

    low: float
    high: float

    @property
    def margin(self) -> float:
        return (self.high - self.low) / 2


def wilson(successes: int, n: int) -> Interval | None:
    """The 95 % Wilson score interval of successes/n, in percent; None when n is 0.

    Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
    inference", JASA 22: centre (p + z²/2n)/(1 + z²/n), half-width
    z/(1 + z²/n)·sqrt(p(1 − p)/n + z²/4n²).
    """
    if n == 0:
        return None
    p, z2 = successes / n, Z95 * Z95
    scale = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / scale
    half = Z95 / scale * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(low=100 * max(0.0, centre - half), high=100 * min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Nps:
    """Net Promoter Score of n answers, in points (−100..100), with its 95 % margin."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    margin_of_error: float | None
    too_small: bool

    @property
    def variance(self) -> float | None:
        """Variance of the NPS estimate as a fraction, (p_P + p_D − (p_P − p_D)²)/n."""
        if self.n == 0:
            return None
        p, d = self.promoters / self.n, self.detractors / self.n
        return max(0.0, p + d - (p - d) ** 2) / self.n

    @property
    def low(self) -> float | None:
        if self.nps is None or self.margin_of_error is None:
            return None
        return max(-100.0, self.nps - self.margin_of_error)

    @property
    def high(self) -> float | None:
        if self.nps is None or self.margin_of_error is None:
            return None
        return min(100.0, self.nps + self.margin_of_error)

    def to_dict(self) -> dict[str, int | float | bool | None]:
        return {**asdict(self), "low": self.low, "high": self.high}


def nps_of(promoters: int, passives: int, detractors: int) -> Nps:
    """NPS from the three group counts."""
    if min(promoters, passives, detractors) < 0:
        raise ValueError(f"negative count in {(promoters, passives, detractors)}")
    n = promoters + passives + detractors
    base = Nps(n, promoters, passives, detractors, None, None, n < MIN_READABLE)
    variance = base.variance
    if variance is None:
        return base
    score = 100 * (promoters - detractors) / n
    return Nps(
        n, promoters, passives, detractors, score, Z95 * math.sqrt(variance) * 100, base.too_small
    )


def nps(counts: Sequence[int]) -> Nps:
    """NPS from counts of scores 0..10 (0–6 detractors, 7–8 passives, 9–10 promoters)."""
    _checked(counts, range(0, 11))
    return nps_of(sum(counts[9:11]), sum(counts[7:9]), sum(counts[0:7]))


@dataclass(frozen=True, slots=True)
class Csat:
    """Customer satisfaction: the share of 4–5 answers on a 1..5 scale, Wilson interval."""

    n: int
    satisfied: int
    csat: float | None
    low: float | None
    high: float | None
    margin_of_error: float | None
    too_small: bool

    def to_dict(self) -> dict[str, int | float | bool | None]:
        return asdict(self)


def csat_of(satisfied: int, n: int) -> Csat:
    """CSAT from the number of satisfied (4–5) answers among n."""
    if not 0 <= satisfied <= n:
        raise ValueError(f"satisfied must be within 0..n, got {satisfied} of {n}")
    interval = wilson(satisfied, n)
    if interval is None:
        return Csat(0, 0, None, None, None, None, True)
    return Csat(
        n,
        satisfied,
        100 * satisfied / n,
        interval.low,
        interval.high,
        interval.margin,
        n < MIN_READABLE,
    )


def csat(counts: Sequence[int]) -> Csat:
    """CSAT from counts of scores (indexes 1..5 used)."""
    _checked(counts, range(1, 6))
    return csat_of(counts[4] + counts[5], sum(counts[1:6]))


@dataclass(frozen=True, slots=True)
class Ces:
    """Customer effort: mean of 1..7 with a t interval; share of easy (5–7) answers."""

    n: int
    mean: float | None
    margin_of_error: float | None
    easy: int
    easy_pct: float | None
    easy_low: float | None
    easy_high: float | None
    too_small: bool

    def to_dict(self) -> dict[str, int | float | bool | None]:
        return asdict(self)


def ces(counts: Sequence[int]) -> Ces:
    """CES from counts of scores (indexes 1..7 used).

    The margin of error is t(0.975, n − 1)·s/sqrt(n), s² = Σ c_k (k − mean)² / (n − 1);
    None for n < 2 (one answer has no spread).
    """
    _checked(counts, range(1, 8))
    n = sum(counts[1:8])
    easy = sum(counts[5:8])
    if n == 0:
        return Ces(0, None, None, 0, None, None, None, True)
    mean = sum(k * counts[k] for k in range(1, 8)) / n
    margin = None
    if n > 1:
        from scipy import stats  # imported here: scipy.stats takes 0.7 s to import

        s2 = sum(counts[k] * (k - mean) ** 2 for k in range(1, 8)) / (n - 1)
        margin = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * math.sqrt(s2 / n)
    interval = wilson(easy, n)
    assert interval is not None
    return Ces(n, mean, margin, easy, 100 * easy / n, interval.low, interval.high, n < MIN_READABLE)


@dataclass(frozen=True, slots=True)
class Comparison:
    """a − b in points with the 95 % margin of the difference and a two-sided z test."""

    difference: float | None
    margin_of_error: float | None
    z: float | None
    p_value: float | None
    significant: bool

    def to_dict(self) -> dict[str, float | bool | None]:
        return asdict(self)


NO_COMPARISON = Comparison(None, None, None, None, False)


def _compare(difference: float, variance: float, readable: bool) -> Comparison:
    """`difference` and `variance` as fractions; reported in points."""
    se = math.sqrt(variance)
    if se == 0:
        # no spread in either group: the normal approximation has no z; a difference is
        # then certain within it, and no difference is no evidence of one
        p = 1.0 if difference == 0 else 0.0
        return Comparison(100 * difference, 0.0, None, p, readable and p < 0.05)
    z = difference / se
    p = math.erfc(abs(z) / math.sqrt(2))
    return Comparison(100 * difference, 100 * Z95 * se, z, p, readable and p < 0.05)


def compare_nps(a: Nps, b: Nps) -> Comparison:
    """Is NPS a different from NPS b? Independent groups; nothing to compare if one is empty."""
    if a.variance is None or b.variance is None or a.nps is None or b.nps is None:
        return NO_COMPARISON
    readable = not (a.too_small or b.too_small)
    return _compare((a.nps - b.nps) / 100, a.variance + b.variance, readable)


def compare_proportions(successes_a: int, n_a: int, successes_b: int, n_b: int) -> Comparison:
    """Difference of two proportions (percent points), unpooled standard error."""
    if n_a == 0 or n_b == 0:
        return NO_COMPARISON
    pa, pb = successes_a / n_a, successes_b / n_b
    variance = pa * (1 - pa) / n_a + pb * (1 - pb) / n_b
    return _compare(pa - pb, variance, min(n_a, n_b) >= MIN_READABLE)


def compare_csat(a: Csat, b: Csat) -> Comparison:
    """Is CSAT a different from CSAT b?"""
    return compare_proportions(a.satisfied, a.n, b.satisfied, b.n)
