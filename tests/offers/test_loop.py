"""The loop closing: customers accept offer A far more than B; the bandit learns it from their
answers, so A's share of the offers shown rises round by round, and the report shows the
model's uplift against the holdout (which keeps getting random eligible offers)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.offers import report, service
from tests.conftest import T0
from tests.offers.helpers import answer, catalogue, customers

ACCEPTS = {"a": 0.7, "b": 0.03}  # what the simulated customers do


def test_the_share_of_the_better_offer_rises_and_the_uplift_shows(
    engine: Engine, settings: Settings
) -> None:
    config = settings.model_copy(update={"offers_holdout": 0.25, "offers_shown": 1})
    now = T0
    catalogue(engine, now, {"key": "a", "name": "A", "kind": "content"},
              {"key": "b", "name": "B", "kind": "content"})  # fmt: skip
    people = customers(engine, config, 120, now)
    bandit, simulated = random.Random(7), random.Random(11)
    shares, arms = [], {}
    for round_ in range(5):
        now += timedelta(hours=1)
        shown: list[tuple[int, str, str]] = []
        for cid in people:
            got = run_write(engine, lambda conn, cid=cid, now=now: service.recommend(
                conn, config, cid, now=now, rng=bandit))  # fmt: skip
            arms[cid] = got["arm"]
            (offer,) = got["offers"]
            shown.append((offer["exposure_id"], offer["key"], got["arm"]))
        model = [key for _, key, arm in shown if arm == "model"]
        shares.append(model.count("a") / len(model))
        answers = [(e, "accepted" if simulated.random() < ACCEPTS[key] else "declined")
                   for e, key, _ in shown]  # fmt: skip
        answer(engine, config, people, answers, now + timedelta(minutes=5), f"r{round_}")
    assert list(arms.values()).count("holdout") >= 15  # a quarter of 120, give or take
    assert shares[-1] > shares[0] + 0.2 and shares[-1] > 0.85, shares
    with engine.connect() as conn:
        got = report.report(conn, config, now=now + timedelta(hours=1))
    overall = got["overall"]
    assert overall["model"]["shown"] + overall["holdout"]["shown"] == 5 * 120
    assert overall["holdout"]["acceptance"]["estimate"] < 0.5  # random: about (0.7 + 0.03) / 2
    uplift = overall["uplift"]["acceptance"]
    assert uplift["estimate"] > 0.1 and uplift["low"] > 0, uplift
    by_key = {o["key"]: o for o in got["offers"]}
    assert by_key["a"]["model"]["acceptance"]["estimate"] > 0.5
    assert by_key["b"]["model"]["acceptance"]["estimate"] < 0.2
    assert by_key["a"]["model"]["shown"] > by_key["b"]["model"]["shown"]
