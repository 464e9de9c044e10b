"""`hxpulse fit clv`'s maths on the full CDNOW master set, against `lifetimes` in the same run.

Run: `.venv/bin/python bench/clv.py [--runs 5]`. The 69,659 purchases of the 23,570 CDNOW
customers (shipped in `lifetimes`) to the end of 1998-06-30 are summarised once (day
resolution, weeks; `analytics.clv.summarise`). Then each side, alternately, `runs` times:
fit BG/NBD on every customer and Gamma-Gamma on the repeat buyers, and compute every
customer's expected purchases in the next 12 months, P(alive), expected spend and CLV. Ours is
`hxpulse.analytics.clv` (BFGS with the analytic gradients, over distinct patterns);
`lifetimes`' is BetaGeoFitter + GammaGammaFitter (BFGS with autograd gradients, which also
computes the Hessian for its standard errors). Prints the medians, the ratio, both sets of
parameters; PASS when ours is no slower (the issue's target) and the parameters agree within
1%. Exit status 1 otherwise.

Then the holdout on the CDNOW sample (2,357 customers, calibration to the end of 1997-09-30 as
Fader, Hardie and Lee cut it): repeat purchases (purchase days) predicted for the next 39
weeks against those made, in total, per customer (mean absolute error, correlation) and by
the number of repeat purchases in calibration. Reported, not a target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from hxpulse.analytics import clv
from hxpulse.demo.cdnow import cdnow_path, read_purchases

END = date(1998, 6, 30)
SAMPLE_END = date(1997, 9, 30)
HORIZON = 12 * clv.WEEKS_PER_MONTH
NAMES = ("r", "alpha", "a", "b", "p", "q", "gamma")


def ours(s: clv.Summary) -> dict[str, float]:
    bg = clv.bgnbd_fit(s.x, s.t_x, s.T)
    gg = clv.gamma_gamma_fit(s.x, s.zbar)
    expected = clv.expected_purchases(bg, HORIZON, s.x, s.t_x, s.T)
    clv.p_alive(bg, s.x, s.t_x, s.T)
    value = clv.expected_spend(gg, s.x, s.zbar) * expected
    return {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "p": gg.p, "q": gg.q,
            "gamma": gg.gamma, "total": float(value.sum())}  # fmt: skip


def theirs(s: clv.Summary) -> dict[str, float]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bg = BetaGeoFitter().fit(s.x, s.t_x, s.T)
    repeat = (s.x > 0) & (s.zbar > 0)
    gg = GammaGammaFitter().fit(s.x[repeat], s.zbar[repeat])
    expected = bg.conditional_expected_number_of_purchases_up_to_time(HORIZON, s.x, s.t_x, s.T)
    bg.conditional_probability_alive(s.x, s.t_x, s.T)
    spend = gg.conditional_expected_average_profit(np.where(repeat, s.x, 0),
                                                   np.where(repeat, s.zbar, 0))  # fmt: skip
    value = np.asarray(spend) * np.asarray(expected)
    found = {k: float(bg.params_[k]) for k in ("r", "alpha", "a", "b")}
    found |= {"p": float(gg.params_["p"]), "q": float(gg.params_["q"]),
              "gamma": float(gg.params_["v"])}  # fmt: skip
    return found | {"total": float(value.sum())}


def timed(work: Callable[[clv.Summary], dict[str, float]], s: clv.Summary) -> tuple[float, Any]:
    began = time.perf_counter()
    found = work(s)
    return time.perf_counter() - began, found


def holdout() -> None:
    """Predicted against actual repeat purchases in the 39 weeks after calibration."""
    purchases = read_purchases(cdnow_path("CDNOW_sample.txt"))
    s = clv.summarise(((p.customer, p.day, p.amount) for p in purchases), SAMPLE_END)
    later: dict[str, set[date]] = {}
    for p in purchases:
        if p.day > SAMPLE_END:
            later.setdefault(p.customer, set()).add(p.day)
    actual = np.array([len(later.get(k, ())) for k in s.keys], dtype=float)
    bg = clv.bgnbd_fit(s.x, s.t_x, s.T)
    predicted = clv.expected_purchases(bg, 39.0, s.x, s.t_x, s.T)
    gap = predicted.sum() / actual.sum() - 1
    print(f"holdout, CDNOW sample ({len(s.keys):,} customers, 39 weeks after {SAMPLE_END}):"
          f" predicted {predicted.sum():,.1f} repeat purchases, actual {actual.sum():,.0f}"
          f" ({gap:+.1%}); per customer: mean {predicted.mean():.3f} vs {actual.mean():.3f},"
          f" mean absolute error {np.abs(predicted - actual).mean():.3f},"
          f" correlation {np.corrcoef(predicted, actual)[0, 1]:.3f}")  # fmt: skip
    print(f"{'x in calibration':<18}{'customers':>10}{'predicted':>11}{'actual':>9}  (means)")
    for low, high in ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 10_000)):
        group = (s.x >= low) & (s.x <= high)
        label = str(low) if low == high else (f"{low}-{high}" if high < 10_000 else f"{low}+")
        print(f"{label:<18}{int(group.sum()):>10,}{predicted[group].mean():>11.3f}"
              f"{actual[group].mean():>9.3f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # lifetimes' own deprecation warnings
    purchases = read_purchases()
    s = clv.summarise(((p.customer, p.day, p.amount) for p in purchases), END)
    print(f"CDNOW master: {len(purchases):,} purchases, {len(s.keys):,} customers"
          f" ({int((s.x > 0).sum()):,} repeat buyers) to {END}")  # fmt: skip
    timed(ours, s), timed(theirs, s)  # warm up: imports, caches
    times: dict[str, list[float]] = {"ours": [], "lifetimes": []}
    found: dict[str, dict[str, float]] = {}
    for _ in range(args.runs):
        for name, work in (("ours", ours), ("lifetimes", theirs)):
            seconds, found[name] = timed(work, s)
            times[name].append(seconds)
    mine, base = (statistics.median(times[k]) for k in ("ours", "lifetimes"))
    print(f"{'':<10}" + "".join(f"{n:>10}" for n in NAMES) + f"{'total CLV':>14}")
    for name in ("ours", "lifetimes"):
        print(f"{name:<10}" + "".join(f"{found[name][n]:>10.4f}" for n in NAMES)
              + f"{found[name]['total']:>14,.0f}")  # fmt: skip
    agree = all(abs(found["ours"][n] / found["lifetimes"][n] - 1) <= 0.01 for n in NAMES)
    fast = mine <= base
    print(f"fit + predictions, median of {args.runs}: ours {1000 * mine:.0f} ms, lifetimes"
          f" {1000 * base:.0f} ms (baseline), ratio {mine / base:.2f}"
          f"  {'PASS' if fast else 'FAIL'} (no slower)")  # fmt: skip
    print(f"parameters agree within 1%: {'PASS' if agree else 'FAIL'}")
    holdout()
    return 0 if fast and agree else 1


if __name__ == "__main__":
    sys.exit(main())
