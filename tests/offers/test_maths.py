"""The report's intervals against published values, and the bandit's draw."""

from __future__ import annotations

import random

import pytest

from hxpulse.offers import maths


def test_wilson_against_hand_computed_values() -> None:
    half = maths.wilson(5, 10)
    assert (half.low, half.high) == (pytest.approx(0.2366, abs=1e-4),
                                     pytest.approx(0.7634, abs=1e-4))  # fmt: skip
    none = maths.wilson(0, 10)
    assert none.estimate == 0 and none.low == 0 and none.high == pytest.approx(0.2775, abs=1e-4)
    assert maths.wilson(0, 0) == maths.NONE


def test_newcombe_against_his_paper() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (b): 56/70 against
    # 48/80, method 10 gives 0.2 with 95% interval 0.0524 to 0.3339
    got = maths.rate_difference((56, 70), (48, 80))
    assert got.estimate == pytest.approx(0.2)
    assert (got.low, got.high) == (pytest.approx(0.0524, abs=1e-4),
                                   pytest.approx(0.3339, abs=1e-4))  # fmt: skip
    assert maths.rate_difference((1, 2), (0, 0)) == maths.NONE


def test_the_mean_s_interval() -> None:
    sample = [0.0, 0.0, 10.0, 0.0, 20.0]
    m = maths.Moments(len(sample), sum(sample), sum(x * x for x in sample))
    got = maths.mean_interval(m)
    sd = (sum((x - 6) ** 2 for x in sample) / 4) ** 0.5
    assert got.estimate == 6.0
    assert got.high == pytest.approx(6 + maths.Z95 * sd / 5**0.5)
    diff = maths.mean_difference(m, maths.Moments(5, 0.0, 0.0))
    assert diff.estimate == 6.0 and diff.low == pytest.approx(got.low)
    assert maths.mean_interval(maths.Moments(1, 3.0, 9.0)) == maths.Interval(3.0, None, None)


def test_the_draw_follows_the_counts_and_leans_on_the_model() -> None:
    rng = random.Random(3)
    good = [maths.draw(0.5, 100, 60, rng) for _ in range(2000)]
    poor = [maths.draw(0.5, 100, 5, rng) for _ in range(2000)]
    assert sum(good) / 2000 == pytest.approx(61 / 102, abs=0.01)  # Beta(61, 41)'s mean
    assert sum(poor) / 2000 == pytest.approx(6 / 102, abs=0.01)
    liked = sum(maths.draw(1.0, 0, 0, rng) for _ in range(4000)) / 4000
    unliked = sum(maths.draw(0.0, 0, 0, rng) for _ in range(4000)) / 4000
    assert liked == pytest.approx(3 / 4, abs=0.02) and unliked == pytest.approx(1 / 4, abs=0.02)
