"""BG/NBD and Gamma-Gamma against the published CDNOW figures (Fader, Hardie and Lee 2005;
Fader and Hardie 2013), on the 2,357-customer sample shipped in `lifetimes`."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pytest
from scipy import optimize

from hxpulse.analytics import clv
from hxpulse.demo.cdnow import cdnow_path, read_purchases

END = date(1997, 9, 30)  # 39 weeks of calibration


@pytest.fixture(scope="module")
def sample() -> clv.Summary:
    purchases = read_purchases(cdnow_path("CDNOW_sample.txt"))
    return clv.summarise(((p.customer, p.day, p.amount) for p in purchases), END)


@pytest.fixture(scope="module")
def bg(sample: clv.Summary) -> clv.BgNbd:
    return clv.bgnbd_fit(sample.x, sample.t_x, sample.T)


@pytest.fixture(scope="module")
def published_summary() -> dict[str, np.ndarray]:
    """The summary Fader and Hardie published (x, t_x, T, zbar), as `lifetimes` ships it."""
    path = cdnow_path("cdnow_customers_summary_with_transactions.csv")
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar")}


def close(value: float, published: float, share: float = 0.01) -> bool:
    return abs(value - published) <= share * abs(published)


def test_the_sample_summarised_from_day_dates_is_the_published_summary(
    sample: clv.Summary, published_summary: dict[str, np.ndarray]
) -> None:
    assert len(sample.keys) == 2357
    assert int((sample.x > 0).sum()) == 946
    # the published IDs are the sample's own numbers, the second column of its lines
    with cdnow_path("CDNOW_sample.txt").open() as handle:
        number = {line.split()[0]: int(line.split()[1]) for line in handle}
    order = np.argsort([number[k] for k in sample.keys])  # type: ignore[index]
    assert np.array_equal(sample.x[order], published_summary["x"])
    for ours, theirs in ((sample.t_x, "t_x"), (sample.T, "T"), (sample.zbar, "zbar")):
        assert np.allclose(ours[order], published_summary[theirs], atol=0.0051)


def test_bgnbd_fit_matches_the_published_estimates(bg: clv.BgNbd) -> None:
    assert close(bg.r, 0.243)
    assert close(bg.alpha, 4.414)
    assert close(bg.a, 0.793)
    assert close(bg.b, 2.426)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_fit_is_the_maximum(sample: clv.Summary, bg: clv.BgNbd) -> None:
    """No nearby parameters do better (a check independent of the optimiser we use)."""
    best = [bg.r, bg.alpha, bg.a, bg.b]
    rng = np.random.default_rng(7)
    for _ in range(20):
        moved = np.array(best) * np.exp(rng.normal(0, 0.01, 4))
        assert clv.bgnbd_log_likelihood(moved, sample.x, sample.t_x, sample.T) < bg.log_likelihood
    found = optimize.minimize(
        lambda p: -clv.bgnbd_log_likelihood(np.exp(p), sample.x, sample.t_x, sample.T),
        np.log([0.5, 5.0, 0.5, 1.0]),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-7},
    )
    assert -found.fun <= bg.log_likelihood + 1e-3


def test_conditional_expectation_of_the_paper(bg: clv.BgNbd) -> None:
    expected = clv.expected_purchases(bg, 39, 2, 30.43, 38.86)
    assert float(expected) == pytest.approx(1.226, abs=0.0005)


def test_p_alive(bg: clv.BgNbd) -> None:
    x, t_x, big_t = np.array([0, 2, 2, 2]), np.array([0, 38.0, 30.43, 5.0]), np.full(4, 38.86)
    alive = clv.p_alive(bg, x, t_x, big_t)
    assert alive[0] == 1.0  # no repeat purchase: not seen to drop out
    assert 1 > alive[1] > alive[2] > alive[3] > 0  # the longer the silence, the less alive
    ratio = bg.a / (bg.b + 1) * ((bg.alpha + 38.86) / (bg.alpha + 30.43)) ** (bg.r + 2)
    assert alive[2] == pytest.approx(1 / (1 + ratio))


def test_expected_purchases_by_simulation(bg: clv.BgNbd) -> None:
    """A fresh customer's expected purchases in t weeks, against simulating the model itself."""
    rng = np.random.default_rng(11)
    n, t = 400_000, 39.0
    rate = rng.gamma(bg.r, 1 / bg.alpha, n)
    drop = rng.beta(bg.a, bg.b, n)
    count = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    # a customer who just made their first purchase: each purchase is followed by a drop-out
    for _ in range(200):
        clock[alive] += rng.exponential(1 / rate[alive])
        bought = alive & (clock < t)
        count[bought] += 1
        alive = bought & (rng.random(n) >= drop)
        if not alive.any():
            break
    model = float(clv.expected_purchases(bg, t, 0, 0.0, 0.0))
    assert count.mean() == pytest.approx(model, rel=0.02)


def test_gamma_gamma_matches_the_published_estimates(
    published_summary: dict[str, np.ndarray], sample: clv.Summary
) -> None:
    gg = clv.gamma_gamma_fit(published_summary["x"], published_summary["zbar"])
    assert close(gg.p, 6.25)
    assert close(gg.q, 3.74)
    assert close(gg.gamma, 15.44)
    ours = clv.gamma_gamma_fit(sample.x, sample.zbar)  # from the raw purchases
    assert close(ours.p, 6.25) and close(ours.q, 3.74) and close(ours.gamma, 15.44)


def test_expected_spend_shrinks_to_the_mean(sample: clv.Summary) -> None:
    gg = clv.gamma_gamma_fit(sample.x, sample.zbar)
    population = gg.p * gg.gamma / (gg.q - 1)
    spend = clv.expected_spend(gg, np.array([0, 1, 1, 50]), np.array([0, 100.0, 5.0, 100.0]))
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < 100  # one purchase of 100: pulled towards the mean
    assert 5 < spend[2] < population
    assert spend[1] < spend[3] < 100  # fifty purchases: believed more
    assert (100 - spend[3]) < 0.1 * (100 - spend[1])


def test_lifetime_value(sample: clv.Summary, bg: clv.BgNbd) -> None:
    gg = clv.gamma_gamma_fit(sample.x, sample.zbar)
    args = (bg, gg, sample.x, sample.t_x, sample.T, sample.zbar)
    plain = clv.lifetime_value(*args)
    year = clv.expected_purchases(bg, 12 * clv.WEEKS_PER_MONTH, sample.x, sample.t_x, sample.T)
    assert np.allclose(plain, year * clv.expected_spend(gg, sample.x, sample.zbar))
    undiscounted_monthly = clv.lifetime_value(*args, monthly_discount=1e-12)
    assert np.allclose(undiscounted_monthly, plain)
    discounted = clv.lifetime_value(*args, monthly_discount=0.01)
    assert np.all(discounted < plain) and np.all(discounted > plain / 1.01**12)
    assert np.all(clv.lifetime_value(*args, months=24) > plain)
    with pytest.raises(ValueError):
        clv.lifetime_value(*args, months=0)


def test_holdout_under_forecast(sample: clv.Summary, bg: clv.BgNbd) -> None:
    """The 39 weeks after calibration: the model under-forecasts repeat purchases on CDNOW."""
    purchases = read_purchases(cdnow_path("CDNOW_sample.txt"))
    later: dict[str, set[date]] = {}
    for p in purchases:
        if p.day > END:
            later.setdefault(p.customer, set()).add(p.day)
    actual = np.array([len(later.get(k, ())) for k in sample.keys])  # type: ignore[call-overload]
    predicted = clv.expected_purchases(bg, 39, sample.x, sample.t_x, sample.T)
    assert actual.sum() == 1882
    assert 0.80 * actual.sum() < predicted.sum() < actual.sum()
    assert np.corrcoef(predicted, actual)[0, 1] > 0.5


def test_fits_refuse_nothing_to_fit() -> None:
    with pytest.raises(ValueError):
        clv.bgnbd_fit([], [], [])
    with pytest.raises(ValueError):
        clv.gamma_gamma_fit([0, 0], [0.0, 0.0])


def test_steady_buyers_who_never_leave_get_finite_forecasts() -> None:
    # everyone buys at one rate (0.05 a week) for two years and no one drops out: the fit runs
    # to its limit (r and alpha without bound, a to 0), where hyp2f1 overflows; the forecast is
    # then the Poisson rate's posterior mean, never NaN
    rng = np.random.default_rng(7)
    weeks, rate, n = 104.0, 0.05, 4000
    rows = []  # (x, t_x, T) from each buyer's first purchase, as the model counts
    for _ in range(n):
        times = np.sort(rng.uniform(0, weeks, rng.poisson(rate * weeks)))
        if len(times):
            rows.append((len(times) - 1, times[-1] - times[0], weeks - times[0]))
    x, t_x, big_t = (np.array(column) for column in zip(*rows, strict=True))
    bg = clv.bgnbd_fit(x, t_x, big_t)
    expected = clv.expected_purchases(bg, 52.0, x, t_x, big_t)
    assert np.isfinite(expected).all()
    assert expected.mean() == pytest.approx(rate * 52, rel=0.15)
    assert np.corrcoef(expected, x)[0, 1] > 0.5  # who bought more is expected to buy more
