"""Serving: eligibility, the sticky holdout, the fitted model's ranking and its cache, the
file's offers checked at load, ignored exposures in the report."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.offers import fitting, report, service, serving
from tests.conftest import T0
from tests.offers.helpers import catalogue, customers

NO_HOLDOUT = {"offers_holdout": 0.0, "offers_shown": 10}


def _serve(engine: Engine, settings: Settings, cid: int, **options: Any) -> dict[str, Any]:
    options.setdefault("now", T0)
    return run_write(engine, lambda conn: service.recommend(conn, settings, cid, **options))


def _keys(got: dict[str, Any]) -> set[str]:
    return {o["key"] for o in got["offers"]}


def test_eligibility(engine: Engine, settings: Settings) -> None:
    config = settings.model_copy(update=NO_HOLDOUT)
    catalogue(engine, T0,
              {"key": "any", "name": "Any", "kind": "content", "eligibility": {"consent": False}},
              {"key": "buyers", "name": "B", "kind": "incentive",
               "eligibility": {"stages": ["customer", "repeat customer"]}},
              {"key": "leads", "name": "L", "kind": "incentive",
               "eligibility": {"stages": ["lead"]}},
              {"key": "lapsed", "name": "Lapsed", "kind": "incentive",
               "eligibility": {"bands": ["lapsed"]}},
              {"key": "shoes", "name": "S", "kind": "product", "item": "sku-1"},
              {"key": "sport", "name": "Sp", "kind": "access",
               "eligibility": {"departments": ["sport"]}},
              {"key": "later", "name": "Later", "kind": "content",
               "valid_from": (T0 + timedelta(days=1)).isoformat()},
              {"key": "over", "name": "Over", "kind": "content",
               "valid_until": T0.isoformat()},
              {"key": "off", "name": "Off", "kind": "content", "active": False})  # fmt: skip
    people = customers(engine, config, 2, T0, properties={"product_id": "sku-1"},
                       department="sport")  # fmt: skip
    first, second = list(people)
    got = _serve(engine, config, first, record=False)
    assert _keys(got) == {"any", "buyers", "sport"}  # bought sku-1; a customer, not lapsed
    ingest(engine, [EventIn(message_id="deny", kind="identify", type="identify", occurred_at=T0,
                            identities=[("email", people[second])],
                            traits={"consent": {"personalisation": "denied"}})],
           now=T0, live=config.live)  # fmt: skip
    denied = _serve(engine, config, second, record=False)
    assert _keys(denied) == {"any"}  # the only offer that needs no consent to personalise
    much_later = _serve(engine, config, first, record=False, now=T0 + timedelta(days=400))
    assert "lapsed" in _keys(much_later) and "later" in _keys(much_later)


def test_the_holdout_is_sticky_and_about_its_share(engine: Engine, settings: Settings) -> None:
    inside = [serving.in_holdout("secret", cid, 0.1) for cid in range(1, 20_001)]
    assert sum(inside) == pytest.approx(2000, abs=150)
    assert inside == [serving.in_holdout("secret", cid, 0.1) for cid in range(1, 20_001)]
    assert inside != [serving.in_holdout("other", cid, 0.1) for cid in range(1, 20_001)]
    config = settings.model_copy(update={"offers_holdout": 0.5})
    catalogue(engine, T0, *({"key": f"o{i}", "name": f"O{i}", "kind": "content"}
                            for i in range(5)))  # fmt: skip
    people = list(customers(engine, config, 12, T0))
    arms = {cid: _serve(engine, config, cid, record=False)["arm"] for cid in people}
    assert set(arms.values()) == {"model", "holdout"}  # 12 customers at one half: both arms
    for cid in people:
        again = _serve(engine, config, cid, record=False, rng=random.Random(cid))
        assert again["arm"] == arms[cid]
        if again["arm"] == "holdout":
            assert all(o["score"] is None and o["source"] == "holdout" for o in again["offers"])


def test_the_fitted_model_ranks_and_explains(engine: Engine, settings: Settings) -> None:
    config = settings.model_copy(update={**NO_HOLDOUT, "offers_shown": 2})
    catalogue(engine, T0, {"key": "hot", "name": "Hot", "kind": "product", "item": "hot"},
              {"key": "cold", "name": "Cold", "kind": "product", "item": "cold"})  # fmt: skip
    people = customers(engine, config, 6, T0, properties={"product_id": "hot"})
    ingest(engine, [EventIn(message_id="view", kind="track", type="page_view", occurred_at=T0,
                            identities=[("email", "new@example.com")],
                            properties={"products": [{"product_id": "cold"}]})],
           now=T0, live=config.live)  # fmt: skip
    before = _serve(engine, config, next(iter(people)), record=False)
    assert {o["source"] for o in before["offers"]} == {"catalogue"}  # no model yet
    fitted = fitting.fit(engine, config, now=T0)
    assert (fitted["interactions"], fitted["customers"], fitted["items"]) == (7, 7, 2)
    with engine.connect() as conn:
        weights = fitting.interactions(conn, config)
    assert set(weights.values()) == {fitting.PURCHASE, fitting.ENGAGEMENT}
    newcomer = run_write(engine, lambda c: service.recommend(
        c, config, _id(c, "new@example.com"), now=T0, record=False,
        rng=random.Random(1)))  # fmt: skip
    top = newcomer["offers"][0]
    assert top["key"] == "hot" and "6 customers" in top["reason"] and top["source"] == "popular"
    wins = sum(_serve(engine, config, _id_of(engine, "new@example.com"), record=False,
                      rng=random.Random(seed))["offers"][0]["key"] == "hot"
               for seed in range(40))  # fmt: skip
    assert wins > 24  # the model's prior leans the draws towards the popular item


def _id(conn: Any, ref: str) -> int:
    from hxpulse.customers import queries

    return queries.find(conn, ref)


def _id_of(engine: Engine, ref: str) -> int:
    with engine.connect() as conn:
        return _id(conn, ref)


def test_the_model_is_cached_until_the_next_fit(engine: Engine, settings: Settings) -> None:
    customers(engine, settings, 2, T0, properties={"sku": "a"})
    fitting.fit(engine, settings, now=T0)
    with engine.connect() as conn:
        first = serving.current_model(conn)
        assert serving.current_model(conn) is first
    fitting.fit(engine, settings, now=T0 + timedelta(seconds=1))
    with engine.connect() as conn:
        assert serving.current_model(conn) is not first


def test_unanswered_exposures_turn_ignored(engine: Engine, settings: Settings) -> None:
    config = settings.model_copy(update={**NO_HOLDOUT, "offers_ignored_after_hours": 24})
    catalogue(engine, T0, {"key": "a", "name": "A", "kind": "content"})
    (cid,) = customers(engine, config, 1, T0)
    _serve(engine, config, cid)
    with engine.connect() as conn:
        soon = report.report(conn, config, now=T0 + timedelta(hours=23))["overall"]["model"]
        late = report.report(conn, config, now=T0 + timedelta(hours=25))["overall"]["model"]
    assert (soon["pending"], soon["ignored"]) == (1, 0)
    assert (late["pending"], late["ignored"], late["shown"]) == (0, 1, 1)
    assert late["acceptance"]["estimate"] == 0.0


def test_bad_offers_in_the_file_are_refused_with_the_field() -> None:
    good = {"key": "a", "name": "A", "kind": "content"}
    for bad, words in (({**good, "kind": "gift"}, "offers.0.kind"),
                       ({**good, "eligibility": {"stages": ["vip"]}},
                        "offers[0].eligibility.stages: unknown stage 'vip'"),
                       ({**good, "eligibility": {"bands": ["gold"]}}, "offers.0.eligibility.bands"),
                       ({**good, "cost": -1}, "offers.0.cost")):  # fmt: skip
        with pytest.raises(ValidationError, match=words.replace("[", r"\[").replace("]", r"\]")):
            Settings(offers=[bad])
    with pytest.raises(ValidationError, match=r"offers\[1\].key: 'a' is given twice"):
        Settings(offers=[good, good])
    assert Settings(offers=[good]).offers[0].eligibility.consent is True


def test_a_change_of_the_catalogue_is_served_at_once(engine: Engine, settings: Settings) -> None:
    config = settings.model_copy(update=NO_HOLDOUT)
    catalogue(engine, T0, {"key": "a", "name": "A", "kind": "content"},
              {"key": "b", "name": "B", "kind": "content"})  # fmt: skip
    (cid,) = customers(engine, config, 1, T0)
    assert _keys(_serve(engine, config, cid, record=False)) == {"a", "b"}  # read and kept
    run_write(engine, lambda conn: service.deactivate(conn, "a", now=T0))
    assert _keys(_serve(engine, config, cid, record=False)) == {"b"}
    catalogue(engine, T0, {"key": "c", "name": "C", "kind": "content"})
    assert _keys(_serve(engine, config, cid, record=False)) == {"b", "c"}
