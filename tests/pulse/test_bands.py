"""The bands (`pulse.bands`): the SQL and the Python reading agree, the counts, the at-risk list
with its reasons and paging, the API and the page; both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select

from hxpulse.config import BandSettings, Live, PulseSettings, Settings
from hxpulse.customers import queries
from hxpulse.customers.service import customers_t
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import bands

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HALF = Live(pulse=PulseSettings(bands=BandSettings(thriving_share=0.5)))


def make(mid: str, user: str, kind: str, days_ago: float, value: float | None = None,
         base: datetime = NOW) -> EventIn:  # fmt: skip
    return EventIn(message_id=mid, kind="identify" if kind == "identify" else "track", type=kind,
                   occurred_at=base - timedelta(days=days_ago), identities=[("user_id", user)],
                   value=value)  # fmt: skip


PEOPLE = {  # who: (events, band with half of the healthy customers thriving)
    "loyal": ([("purchase", 1, 120.0), ("purchase", 10, 80.0), ("purchase", 20, 90.0)],
              "thriving"),
    "fine": ([("purchase", 30, 20.0)], "steady"),
    "angry": ([("purchase", 5, 40.0), ("complaint", 2, None)], "at-risk"),
    "slipping": ([("purchase", 120, 300.0)], "at-risk"),
    "gone": ([("purchase", 400, 60.0)], "lapsed"),
    "new_lead": ([("identify", 1, None)], "warm"),
    "old_prospect": ([("page_view", 200, None)], "cold"),
}  # fmt: skip


def load(engine: Engine, live: Live = HALF) -> dict[str, int]:
    events = [
        make(f"{who}-{n}", who, kind, days, value)
        for who, (done, _) in PEOPLE.items()
        for n, (kind, days, value) in enumerate(done)
    ]
    ingest(engine, events, now=NOW, live=live)  # fmt: skip
    with engine.connect() as conn:
        return {who: queries.find(conn, who) for who in PEOPLE}


def test_each_customer_is_in_one_band_and_sql_agrees_with_python(engine: Engine) -> None:
    ids = load(engine)
    c = customers_t.c
    with engine.connect() as conn:
        edges = bands.bounds(conn, HALF, NOW)
        rows = {r.id: r for r in conn.execute(select(customers_t))}
        in_sql = {name: {r[0] for r in conn.execute(select(c.id).where(bands.band_sql(edges, name)))}
                  for name in bands.BANDS}  # fmt: skip
        counts = bands.counts(conn, HALF, NOW)
    for who, cid in ids.items():
        r = rows[cid]
        read = bands.classify(edges, stage=r.stage, key=r.pulse_key,
                              last_return_at=r.last_return_at, created_at=r.created_at,
                              open_negatives=r.open_negatives, detractor=bool(r.detractor))  # fmt: skip
        assert read == PEOPLE[who][1], who
        assert [name for name, members in in_sql.items() if cid in members] == [read], who
    assert counts == {"thriving": 1, "steady": 1, "at-risk": 2, "lapsed": 1, "warm": 1,
                      "cold": 1}  # fmt: skip
    assert list(counts) == ["thriving", "steady", "at-risk", "lapsed", "warm", "cold"]


def test_thriving_is_a_share_of_the_healthy_customers(engine: Engine) -> None:
    load(engine, Live())
    with engine.connect() as conn:
        default = bands.counts(conn, Live(), NOW)  # a quarter of two healthy: nobody
        everyone = bands.counts(conn, Live(pulse=PulseSettings(bands=BandSettings(
            thriving_share=1.0))), NOW)  # fmt: skip
    assert (default["thriving"], default["steady"]) == (0, 2)
    assert (everyone["thriving"], everyone["steady"]) == (2, 0)


def test_the_edges_move_with_the_half_life_and_time(engine: Engine) -> None:
    ids = load(engine)
    longer = Live(pulse=PulseSettings(half_life_days=200.0, bands=BandSettings(thriving_share=0.5)))
    with engine.connect() as conn:
        slow = bands.counts(conn, longer, NOW)
        later = bands.at_risk_list(conn, HALF, NOW, limit=10, as_of=NOW + timedelta(days=1))
    # fall 200 days, lapsed 400: slipping is steady, gone (400 days, not more) at risk
    assert (slow["lapsed"], slow["at-risk"], slow["cold"]) == (0, 2, 0)
    assert {i["customer_id"] for i in later["items"]} == {ids["angry"], ids["slipping"]}


def test_the_at_risk_list_says_why_most_to_lose_first_and_pages(engine: Engine) -> None:
    ids = load(engine)
    with engine.connect() as conn:
        found = bands.at_risk_list(conn, HALF, NOW, limit=10)
        second = bands.at_risk_list(conn, HALF, NOW, limit=1, offset=1)
    assert found["total"] == 2 and [i["customer_id"] for i in found["items"]] == [
        ids["slipping"], ids["angry"]]  # fmt: skip
    slipping, angry = found["items"]
    assert slipping["pulse"] > angry["pulse"]
    assert slipping["reasons"] == ["no return for 120 days"]
    assert angry["reasons"][0] == "1 unresolved negative experience"
    assert angry["open_negatives"] == 1 and angry["band"] == "at-risk"
    assert [i["customer_id"] for i in second["items"]] == [ids["angry"]] and second["total"] == 2


def test_the_api_and_the_pages_show_the_bands(
    engine: Engine, client: TestClient, api_key: str, settings: Settings
) -> None:
    ids = load(engine, settings.live, datetime.now(UTC))
    headers = {"authorization": f"Bearer {api_key}"}
    listed = client.get("/api/pulse/at-risk", params={"limit": 1}, headers=headers).json()
    assert listed["total"] >= 2 and listed["limit"] == 1 and len(listed["items"]) == 1
    assert listed["items"][0]["reasons"]
    counts = client.get("/api/pulse/bands", headers=headers).json()["bands"]
    assert set(counts) == set(bands.BANDS) and sum(counts.values()) == len(ids)
    one = client.get("/api/customers/gone/pulse", headers=headers).json()
    assert one["band"] == "lapsed" and one["lapsed"] is True and one["at_risk"] is False
    bad = client.get("/api/pulse/at-risk", params={"offset": -1}, headers=headers)
    assert bad.status_code == 422 and "offset" in bad.text


def test_bad_band_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="no longer pulse thresholds"):
        PulseSettings.model_validate({"bands": {"thriving": 40, "steady": 12}})
    with pytest.raises(ValidationError, match="lapsed .* must be more half-lives than fall"):
        BandSettings(fall=2, lapsed=1)
    with pytest.raises(ValidationError, match="pulse.bands.customer_stage"):
        Settings(pulse=PulseSettings(bands=BandSettings(customer_stage="buyer")))
