"""NPS, CSAT and CES statistics against values computed by hand (arithmetic in the comments)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from hxpulse.analytics.nps import (
    MIN_READABLE,
    Z95,
    ces,
    compare_csat,
    compare_nps,
    compare_proportions,
    counts_of,
    csat,
    csat_of,
    nps,
    nps_of,
    wilson,
)


def counts(**by_score: int) -> list[int]:
    """Counts from keyword arguments s0..s10, e.g. counts(s10=50, s8=30)."""
    rolled = [0] * 11
    for key, value in by_score.items():
        rolled[int(key[1:])] = value
    return rolled


def test_nps_50_30_20() -> None:
    result = nps(counts(s10=30, s9=20, s8=10, s7=20, s6=5, s3=10, s0=5))
    # 50 promoters (9–10), 30 passives (7–8), 20 detractors (0–6) of 100
    assert (result.n, result.promoters, result.passives, result.detractors) == (100, 50, 30, 20)
    # NPS = 50 % − 20 % = 30 points
    assert result.nps == pytest.approx(30.0)
    # Var = (0.5 + 0.2 − (0.5 − 0.2)²) / 100 = (0.7 − 0.09) / 100 = 0.0061
    assert result.variance == pytest.approx(0.0061)
    # MoE = 1.96 · sqrt(0.0061) · 100 = 1.96 · 0.078102 · 100 = 15.31 points
    assert result.margin_of_error == pytest.approx(15.31, abs=0.005)
    # interval 30 ∓ 15.31 = 14.69 .. 45.31
    assert (result.low, result.high) == (
        pytest.approx(14.69, abs=0.01),
        pytest.approx(45.31, abs=0.01),
    )
    assert not result.too_small


def test_nps_of_matches_counts_and_is_json_ready() -> None:
    result = nps_of(50, 30, 20)
    assert result == nps(counts(s10=50, s8=30, s3=20))
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert {"nps", "margin_of_error", "n", "promoters", "passives", "detractors"} <= set(as_dict)
    assert as_dict["nps"] == pytest.approx(30.0)
    assert as_dict["too_small"] is False


def test_nps_all_promoters_all_detractors() -> None:
    # every answer +1: NPS 100 and no spread (Var = (1 + 0 − 1²)/n = 0)
    assert nps_of(40, 0, 0).nps == 100.0
    assert nps_of(40, 0, 0).margin_of_error == 0.0
    # every answer −1: NPS −100, never the reverse sign
    assert nps_of(0, 0, 40).nps == -100.0


def test_no_answers_give_no_score_and_no_error() -> None:
    empty = nps([0] * 11)
    assert (empty.n, empty.nps, empty.margin_of_error, empty.too_small) == (0, None, None, True)
    assert empty.variance is None and empty.low is None and empty.high is None
    assert json.dumps(empty.to_dict())
    assert csat([0] * 11).csat is None
    assert ces([0] * 11).mean is None
    assert compare_nps(empty, nps_of(50, 30, 20)).difference is None
    assert compare_nps(empty, nps_of(50, 30, 20)).significant is False


def test_fewer_than_30_answers_are_flagged() -> None:
    small = nps_of(10, 5, 5)  # n = 20 < 30
    assert small.too_small and small.nps == pytest.approx(25.0)  # 50 % − 25 %
    assert not nps_of(15, 10, 5).too_small  # n = 30 is readable
    assert MIN_READABLE == 30


def test_counts_are_checked() -> None:
    with pytest.raises(ValueError, match="11 entries"):
        nps([1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        nps(counts(s10=-1))
    with pytest.raises(ValueError, match="score 9, outside 1..5"):
        csat(counts(s9=3))
    with pytest.raises(ValueError, match="score 0, outside 1..7"):
        ces(counts(s0=1))
    with pytest.raises(ValueError, match="outside 0..10"):
        counts_of([11])
    assert counts_of([10, 10, 0, 7]) == counts(s10=2, s0=1, s7=1)


def test_significant_difference() -> None:
    a = nps_of(60, 20, 20)  # NPS 40; Var_a = (0.6 + 0.2 − 0.4²)/100 = 0.64/100 = 0.0064
    b = nps_of(30, 30, 40)  # NPS −10; Var_b = (0.3 + 0.4 − 0.1²)/100 = 0.69/100 = 0.0069
    result = compare_nps(a, b)
    assert result.difference == pytest.approx(50.0)
    # se = sqrt(0.0064 + 0.0069) = sqrt(0.0133) = 0.115326; MoE = 1.96 · 0.115326 · 100 = 22.60
    assert result.margin_of_error == pytest.approx(22.60, abs=0.01)
    # z = 0.5 / 0.115326 = 4.3355; p = 2 · (1 − Φ(4.3355)) = 1.454e-5
    assert result.z == pytest.approx(4.3355, abs=1e-4)
    assert result.p_value == pytest.approx(1.454e-5, rel=1e-3)
    assert result.significant
    # the other way round: the same test with the sign of the difference turned
    back = compare_nps(b, a)
    assert back.difference == pytest.approx(-50.0) and back.z == pytest.approx(-4.3355, abs=1e-4)
    assert back.p_value == pytest.approx(result.p_value)


def test_difference_that_is_not_significant() -> None:
    a = nps_of(50, 30, 20)  # NPS 30, Var 0.0061 (above)
    b = nps_of(45, 30, 25)  # NPS 20; Var = (0.45 + 0.25 − 0.2²)/100 = 0.66/100 = 0.0066
    result = compare_nps(a, b)
    # se = sqrt(0.0127) = 0.112694; z = 0.1 / 0.112694 = 0.8874; p = 0.3749
    assert result.difference == pytest.approx(10.0)
    assert result.z == pytest.approx(0.8874, abs=1e-4)
    assert result.p_value == pytest.approx(0.3749, abs=1e-4)
    # MoE = 1.96 · 0.112694 · 100 = 22.09 > 10: the interval of the difference holds 0
    assert result.margin_of_error == pytest.approx(22.09, abs=0.01)
    assert not result.significant
    assert json.loads(json.dumps(result.to_dict()))["significant"] is False


def test_p_value_is_scipy_normal_two_sided() -> None:
    for a, b in [
        ((60, 20, 20), (30, 30, 40)),
        ((50, 30, 20), (45, 30, 25)),
        ((9, 1, 30), (3, 3, 34)),
    ]:
        result = compare_nps(nps_of(*a), nps_of(*b))
        assert result.z is not None
        assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(result.z)), rel=1e-12)


def test_small_groups_are_never_significant() -> None:
    # 20 promoters vs 20 detractors: a 200-point difference with no spread in either group,
    # but n = 20 < 30 on both sides
    result = compare_nps(nps_of(20, 0, 0), nps_of(0, 0, 20))
    assert result.difference == pytest.approx(200.0)
    assert (result.z, result.p_value, result.margin_of_error) == (None, 0.0, 0.0)
    assert not result.significant
    assert compare_nps(nps_of(40, 0, 0), nps_of(0, 0, 40)).significant


def test_csat_wilson_interval() -> None:
    result = csat(counts(s5=30, s4=15, s3=2, s2=2, s1=1))
    # 45 satisfied of 50: p = 0.9; z² = 3.8415, z²/n = 0.076829
    # centre = (0.9 + 3.8415/100) / 1.076829 = 0.938415 / 1.076829 = 0.871462
    # half = 1.96/1.076829 · sqrt(0.9·0.1/50 + 3.8415/(4·50²)) = 1.820122 · sqrt(0.00218415)
    #      = 1.820122 · 0.046735 = 0.085064  →  0.786398 .. 0.956526
    assert (result.n, result.satisfied) == (50, 45)
    assert result.csat == pytest.approx(90.0)
    assert result.low == pytest.approx(78.640, abs=0.001)
    assert result.high == pytest.approx(95.652, abs=0.001)
    # asymmetric around 90: 11.36 below, 5.65 above; margin = half the width
    assert result.margin_of_error == pytest.approx((95.652 - 78.640) / 2, abs=0.001)
    assert csat_of(45, 50) == result
    assert json.loads(json.dumps(result.to_dict()))["low"] == pytest.approx(78.640, abs=0.001)


def test_csat_near_100_percent_keeps_a_lower_bound() -> None:
    result = csat_of(30, 30)
    # p = 1: low = 1 / (1 + z²/n) = 1 / (1 + 3.8415/30) = 1 / 1.128049 = 0.886487; high = 1
    assert result.csat == 100.0
    assert result.low == pytest.approx(88.649, abs=0.001)
    assert result.high == pytest.approx(100.0)


def test_compare_csat() -> None:
    # 45/50 = 0.9 vs 30/50 = 0.6: se = sqrt(0.9·0.1/50 + 0.6·0.4/50) = sqrt(0.0066) = 0.081240
    # z = 0.3 / 0.081240 = 3.6927; MoE = 1.96 · 0.081240 · 100 = 15.92
    result = compare_csat(csat_of(45, 50), csat_of(30, 50))
    assert result.difference == pytest.approx(30.0)
    assert result.z == pytest.approx(3.6927, abs=1e-4)
    assert result.margin_of_error == pytest.approx(15.92, abs=0.01)
    assert result.significant
    assert compare_proportions(45, 50, 30, 50) == result
    assert not compare_proportions(9, 10, 6, 10).significant  # n = 10 < 30
    assert compare_proportions(0, 0, 6, 10).difference is None


def test_ces_mean_and_t_interval() -> None:
    result = ces(counts(s1=2, s3=4, s5=10, s6=8, s7=6))
    # n = 30; mean = (1·2 + 3·4 + 5·10 + 6·8 + 7·6)/30 = 154/30 = 5.1333
    assert result.n == 30
    assert result.mean == pytest.approx(5.13333, abs=1e-5)
    # Σ c(k − mean)² = 2·17.0844 + 4·4.5511 + 10·0.01778 + 8·0.7511 + 6·3.4844 = 79.4667
    # s² = 79.4667/29 = 2.740230; s/√n = 1.655364/5.477226 = 0.302227
    # t(0.975, 29) = 2.045230; MoE = 2.045230 · 0.302227 = 0.61812
    assert result.margin_of_error == pytest.approx(0.61812, abs=1e-5)
    # easy (5–7) = 10 + 8 + 6 = 24 of 30 = 80 %; Wilson: 62.69 .. 90.49
    assert (result.easy, result.easy_pct) == (24, pytest.approx(80.0))
    assert result.easy_low == pytest.approx(62.694, abs=0.001)
    assert result.easy_high == pytest.approx(90.495, abs=0.001)
    assert not result.too_small
    one = ces(counts(s4=1))
    assert (one.mean, one.margin_of_error, one.too_small) == (4.0, None, True)
    assert json.dumps(result.to_dict())


def test_wilson_of_nothing() -> None:
    assert wilson(0, 0) is None
    interval = wilson(0, 100)
    assert interval is not None and interval.low == 0.0 and interval.high > 0


score_lists = st.lists(st.integers(min_value=0, max_value=10), max_size=300)


@given(score_lists)
def test_nps_agrees_with_the_scores_one_by_one(scores: list[int]) -> None:
    result = nps(counts_of(scores))
    assert result.n == len(scores)
    if not scores:
        assert result.nps is None
        return
    values = [1 if s >= 9 else 0 if s >= 7 else -1 for s in scores]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)  # of one answer
    assert result.nps is not None and result.margin_of_error is not None
    assert -100 <= result.nps <= 100
    assert result.nps == pytest.approx(100 * mean, abs=1e-9)
    assert result.margin_of_error >= 0
    assert result.margin_of_error == pytest.approx(
        Z95 * math.sqrt(variance / len(values)) * 100, abs=1e-9
    )
    assert result.too_small == (len(scores) < 30)


@given(st.lists(st.integers(min_value=1, max_value=5), max_size=300))
def test_csat_interval_holds_the_estimate(scores: list[int]) -> None:
    result = csat(counts_of(scores))
    if not scores:
        assert result.csat is None
        return
    assert result.csat == pytest.approx(100 * sum(s >= 4 for s in scores) / len(scores))
    assert result.low is not None and result.high is not None and result.csat is not None
    assert 0 <= result.low <= result.csat + 1e-9 and result.csat - 1e-9 <= result.high <= 100
