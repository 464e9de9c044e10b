"""Customer lifetime value: BG/NBD for purchases and P(alive), Gamma-Gamma for spend.

Pure maths on NumPy arrays (no database). Time is in weeks; a customer is summarised as

- ``x``: repeat purchases (purchase days after the first one; purchases on one day are one),
- ``t_x``: weeks from the first purchase to the last one (recency),
- ``T``: weeks from the first purchase to the end of calibration (age),
- ``zbar``: the mean value of the repeat purchases (0 when ``x`` is 0).

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your Customers the Easy Way: An
Alternative to the Pareto/NBD Model", Marketing Science 24 (2), 275-284 (the log-likelihood of
section 7, equation 10 for the conditional expectation, P(alive) of their note 004).
Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value" (note 025).

Both fits maximise the published log-likelihoods with their analytic gradients (BFGS on the
logarithms of the parameters); BG/NBD over the distinct (x, t_x, T) weighted by their counts, and
the gamma functions of both once per distinct x.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

Array = NDArray[np.float64]
WEEKS_PER_MONTH = 365.25 / 12 / 7


@dataclass(frozen=True, slots=True)
class BgNbd:
    """The fitted BG/NBD: purchase rate ~ Gamma(r, alpha), drop-out chance ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, slots=True)
class GammaGamma:
    """The fitted Gamma-Gamma: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float


@dataclass(frozen=True, slots=True)
class Summary:
    """Each customer's (x, t_x, T, zbar) and first purchase's value, in the order of `keys`."""

    keys: list[Any]  # the customers as given (ids or names), sorted
    x: Array
    t_x: Array
    T: Array
    zbar: Array
    first_value: Array


def summarise(purchases: Iterable[tuple[str | int, date, float]], end: date) -> Summary:
    """Summarise (customer, day, value) purchases made on or before `end` (day resolution)."""
    days: dict[str | int, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for customer, day, value in purchases:
        if day <= end:
            days[customer][day] += value
    keys = sorted(days)
    n = len(keys)
    x, t_x, big_t, zbar, first = (np.zeros(n) for _ in range(5))
    for k, customer in enumerate(keys):
        mine = days[customer]
        ordered = sorted(mine)
        x[k] = len(ordered) - 1
        t_x[k] = (ordered[-1] - ordered[0]).days / 7.0
        big_t[k] = (end - ordered[0]).days / 7.0
        first[k] = mine[ordered[0]]
        if len(ordered) > 1:
            zbar[k] = sum(mine[d] for d in ordered[1:]) / (len(ordered) - 1)
    return Summary(keys, x, t_x, big_t, zbar, first)


def _patterns(*columns: Array) -> tuple[list[Array], Array]:
    """The distinct rows of `columns` and how many customers share each one."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, k] for k in range(unique.shape[1])], counts.astype(float)


def _bgnbd_terms(
    params: Sequence[float] | Array, x: Array, t_x: Array, big_t: Array
) -> tuple[Array, Array, Array]:
    """Each customer's log-likelihood, the weight of its "alive at t_x" branch, and A4."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    both = np.logaddexp(a3, a4)
    return a1 + a2 + both, np.exp(a4 - both), a4


def bgnbd_log_likelihood(
    params: Sequence[float], x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> float:
    """The BG/NBD log-likelihood of (r, alpha, a, b), summed over customers."""
    ll, _, _ = _bgnbd_terms(params, *(np.asarray(v, dtype=float) for v in (x, t_x, big_t)))
    return float(ll.sum())


def _bgnbd_objective(
    log_params: Array, x: Array, t_x: Array, big_t: Array, weights: Array, by_x: tuple[Array, Array]
) -> tuple[float, Array]:
    """The mean negative log-likelihood and its gradient in the log-parameters. The terms that
    depend on x alone (the gamma and beta functions and their digammas, the costly part) are
    computed once per distinct x, weighted by how many customers have it (`by_x`)."""
    r, alpha, a, b = params = np.exp(np.clip(log_params, -30.0, 30.0))
    xs, counts = by_x
    total = weights.sum()
    repeat = x > 0
    log_t = np.log(alpha + big_t)
    log_tx = np.log(alpha + t_x)
    log_bx = np.log(b + np.maximum(x, 1) - 1)
    a3 = -(r + x) * log_t
    a4 = np.where(repeat, np.log(a) - log_bx - (r + x) * log_tx, -np.inf)
    both = np.logaddexp(a3, a4)
    w = np.exp(a4 - both)  # the weight of the "alive at t_x" branch
    per_x = (special.gammaln(r + xs) - special.gammaln(r) + special.betaln(a, b + xs)
             - special.betaln(a, b))  # fmt: skip
    ll = counts @ per_x + r * np.log(alpha) * total + weights @ both
    common = special.digamma(a + b) - special.digamma(a + b + xs)
    dr = counts @ (special.digamma(r + xs) - special.digamma(r)) + np.log(alpha) * total
    dr -= weights @ ((1 - w) * log_t + w * log_tx)
    dalpha = r * total / alpha - weights @ ((r + x) * ((1 - w) / (alpha + big_t)
                                                       + w / (alpha + t_x)))  # fmt: skip
    ww = weights * w
    da = counts @ common + ww.sum() / a
    db = counts @ (common + special.digamma(b + xs) - special.digamma(b)) - ww @ np.exp(-log_bx)
    grad = np.array([dr, dalpha, da, db]) * params
    return float(-ll / total), -grad / total


def bgnbd_fit(x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> BgNbd:
    """Fit BG/NBD by maximum likelihood (Fader, Hardie and Lee 2005, section 7)."""
    columns = [np.asarray(v, dtype=float) for v in (x, t_x, big_t)]
    if len(columns[0]) == 0:
        raise ValueError("no customers to fit")
    (ux, ut_x, ut), weights = _patterns(*columns)
    xs, where = np.unique(ux, return_inverse=True)
    by_x = (xs, np.bincount(where, weights=weights))
    scale = 10.0 / max(float(ut.max()), 1e-9)  # time rescaled to about 10: a gentler surface
    start = np.log([1.0, 1.0, 1.0, 1.0])
    found = optimize.minimize(
        _bgnbd_objective,
        start,
        args=(ux, ut_x * scale, ut * scale, weights, by_x),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-9, "maxiter": 2000},
    )
    r, alpha, a, b = np.exp(found.x)
    alpha /= scale
    ll = bgnbd_log_likelihood((r, alpha, a, b), *columns)
    return BgNbd(float(r), float(alpha), float(a), float(b), ll)


def expected_purchases(
    model: BgNbd, t: float | ArrayLike, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> Array:
    """Expected purchases in the next `t` weeks given (x, t_x, T) (equation 10 of the paper)."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    xs, rec, age = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    t = np.asarray(t, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        hyper = special.hyp2f1(r + xs, b + xs, a + b + xs - 1, t / (alpha + age + t))
        head = (a + b + xs - 1) / (a - 1)
        body = 1 - ((alpha + age) / (alpha + age + t)) ** (r + xs) * hyper
        expected = head * body
    odds = _odds(model, xs, rec, age)
    # Customers who all buy at one steady rate and never drop out drive the fit to its limit
    # (r and alpha without bound, a to 0), where hyp2f1 overflows. There the model is a
    # Poisson process whose rate has the posterior mean (r + x) / (alpha + T): use that.
    steady = (r + xs) / (alpha + age) * t
    return np.asarray(np.where(np.isfinite(expected), expected, steady) / odds, dtype=float)


def p_alive(model: BgNbd, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> Array:
    """The probability that each customer is still active at T (1 with no repeat purchase)."""
    xs, rec, age = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    return np.asarray(1.0 / _odds(model, xs, rec, age), dtype=float)


def _odds(model: BgNbd, x: Array, t_x: Array, big_t: Array) -> Array:
    """1 + (chance of having dropped out after the last purchase) / (of being alive), per row."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    with np.errstate(over="ignore"):
        ratio = np.exp(
            np.log(a)
            - np.log(b + np.maximum(x, 1) - 1)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
    return np.asarray(1.0 + np.where(x > 0, ratio, 0.0), dtype=float)


def _gg_data(x: Array, zbar: Array, weights: Array) -> tuple[Array, ...]:
    """What the Gamma-Gamma objective needs that does not change with the parameters: the
    rows, the distinct x with their weighted counts, and the weighted sums of the logarithms."""
    xs, where = np.unique(x, return_inverse=True)
    counts = np.bincount(where, weights=weights).astype(float)
    log_z = np.log(zbar)
    sums = np.array([weights @ (x * log_z), weights @ log_z, weights @ (x * np.log(x))])
    return x, zbar, weights, xs.astype(float), counts, sums


def _gg_objective(log_params: Array, *data: Array) -> tuple[float, Array]:
    """The mean negative log-likelihood and its gradient in the log-parameters; the gamma
    functions and digammas, which depend on x alone, once per distinct x."""
    x, zbar, weights, xs, counts, (s_xlz, s_lz, s_xlx) = data
    p, q, gamma = params = np.exp(np.clip(log_params, -30.0, 30.0))
    total = weights.sum()
    spend = gamma + x * zbar
    log_spend = np.log(spend)
    pxs = p * xs
    upper = special.digamma(pxs + q)
    ll = (counts @ (special.gammaln(pxs + q) - special.gammaln(pxs))
          - total * special.gammaln(q) + total * q * np.log(gamma)
          + p * s_xlz - s_lz + p * s_xlx - weights @ ((p * x + q) * log_spend))  # fmt: skip
    dp = counts @ (xs * (upper - special.digamma(pxs))) + s_xlz + s_xlx
    dp -= weights @ (x * log_spend)
    dq = counts @ upper - total * special.digamma(q) + total * np.log(gamma)
    dq -= weights @ log_spend
    dgamma = total * q / gamma - weights @ ((p * x + q) / spend)
    grad = np.array([dp, dq, dgamma]) * params
    return float(-ll / total), -grad / total


def gamma_gamma_log_likelihood(params: Sequence[float], x: ArrayLike, zbar: ArrayLike) -> float:
    """The Gamma-Gamma log-likelihood of (p, q, gamma) over the repeat buyers (x > 0)."""
    xs, zs = _repeat_buyers(x, zbar)
    data = _gg_data(xs, zs, np.ones(len(xs)))
    value, _ = _gg_objective(np.log(np.asarray(params, dtype=float)), *data)
    return -value * len(xs)


def _repeat_buyers(x: ArrayLike, zbar: ArrayLike) -> tuple[Array, Array]:
    xs, zs = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    keep = (xs > 0) & (zs > 0)
    return xs[keep], zs[keep]


def gamma_gamma_fit(x: ArrayLike, zbar: ArrayLike) -> GammaGamma:
    """Fit Gamma-Gamma on the repeat buyers: x > 0 and a positive mean repeat value `zbar`."""
    xs, zs = _repeat_buyers(x, zbar)
    if len(xs) == 0:
        raise ValueError("no repeat buyers with a positive value to fit spend on")
    scale = 1.0 / float(np.mean(zs))  # money rescaled to a mean of 1
    data = _gg_data(xs, zs * scale, np.ones(len(xs)))  # (x, z̄) rarely repeat: rows as they are
    found = optimize.minimize(
        _gg_objective,
        np.log([1.0, 1.0, 1.0]),
        args=data,
        jac=True,
        method="BFGS",
        options={"gtol": 1e-9, "maxiter": 2000},
    )
    p, q, gamma = np.exp(found.x)
    gamma /= scale
    ll = gamma_gamma_log_likelihood((p, q, gamma), xs, zs)
    return GammaGamma(float(p), float(q), float(gamma), ll)


def expected_spend(model: GammaGamma, x: ArrayLike, zbar: ArrayLike) -> Array:
    """The expected value of a customer's next purchase (the population mean when x is 0, or
    when their repeat purchases carry no positive value: the fit left them out too)."""
    p, q, gamma = model.p, model.q, model.gamma
    xs, zs = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    known = (xs > 0) & (zs > 0)
    xs, zs = np.where(known, xs, 0.0), np.where(known, zs, 0.0)
    return np.asarray(p * (gamma + xs * zs) / (p * xs + q - 1), dtype=float)


def lifetime_value(
    bg: BgNbd,
    gg: GammaGamma,
    x: ArrayLike,
    t_x: ArrayLike,
    big_t: ArrayLike,
    zbar: ArrayLike,
    *,
    months: int = 12,
    monthly_discount: float = 0.0,
) -> Array:
    """CLV over the next `months`: expected purchases each month × expected spend, discounted.

    Month m's expected purchases (the increment of equation 10 from m-1 to m months, a month
    being 365.25/12 days) are divided by (1 + monthly_discount)^m. The default rate 0 does not
    discount: CLV is then expected purchases over the horizon × expected spend per purchase.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_discount < 0:
        raise ValueError("monthly_discount must not be negative")
    spend = expected_spend(gg, x, zbar)
    if monthly_discount == 0:
        return spend * expected_purchases(bg, months * WEEKS_PER_MONTH, x, t_x, big_t)
    total = np.zeros_like(spend)
    before = np.zeros_like(spend)
    for m in range(1, months + 1):
        upto = expected_purchases(bg, m * WEEKS_PER_MONTH, x, t_x, big_t)
        total += (upto - before) / (1 + monthly_discount) ** m
        before = upto
    return np.asarray(spend * total, dtype=float)
