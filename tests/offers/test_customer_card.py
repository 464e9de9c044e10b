"""The customer page's Offers card: what the customer would be offered now (a look that logs
nothing) and the offers shown to them with their answers, for the roles that read offers."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from hxpulse.audit.service import SYSTEM
from hxpulse.offers import service
from hxpulse.offers.models import Exposure
from hxpulse.privacy import erasure
from tests.auth.helpers import person, sign_in
from tests.offers.helpers import catalogue, customers

HTML = {"accept": "text/html"}
OFFERS = ({"key": "guide", "name": "Marathon guide", "kind": "content"},
          {"key": "vip", "name": "Early access", "kind": "access"})  # fmt: skip


def _shown(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Exposure.__table__)).scalar_one())


def _world(client: TestClient, engine: Engine, settings: Any, role: str) -> tuple[int, str]:
    """The catalogue, one customer (id, email) and a signed-in person with `role`."""
    catalogue(engine, datetime.now(UTC), *OFFERS)
    (cid, email), *_ = customers(engine, settings, 2, datetime.now(UTC)).items()
    person(engine, f"{role}@example.com", role=role)
    sign_in(client, f"{role}@example.com")
    return cid, email


def test_the_card_shows_the_next_offers_and_the_answers(
    client: TestClient, engine: Engine, settings: Any
) -> None:
    now = datetime.now(UTC)
    cid, email = _world(client, engine, settings, "analyst")
    page = html.unescape(client.get(f"/customers/{cid}", headers=HTML).text)
    assert 'id="offers-card"' in page and "Marathon guide" in page and "Early access" in page
    assert "not logged as shown" in page and 'id="offers-shown"' not in page
    assert _shown(engine) == 0  # a look logs nothing
    served = client.get(f"/api/customers/{email}/offers", params={"n": 1}).json()
    exposure = served["offers"][0]["exposure_id"]
    with engine.begin() as conn:
        service.record_response(conn, settings, customer_id=cid, response="accepted", now=now,
                                exposure_id=exposure, revenue=12.5)  # fmt: skip
    page = html.unescape(client.get(f"/customers/{cid}", headers=HTML).text)
    shown = page.split('id="offers-shown"')[1].split("</ol>")[0]
    assert served["offers"][0]["name"] in shown and "accepted" in shown and "12.50" in shown
    assert _shown(engine) == 1


def test_an_agent_sees_no_offers_card(client: TestClient, engine: Engine, settings: Any) -> None:
    cid, _email = _world(client, engine, settings, "agent")
    page = client.get(f"/customers/{cid}", headers=HTML)
    assert page.status_code == 200 and 'id="pulse-card"' in page.text
    assert 'id="offers-card"' not in page.text and "Marathon guide" not in page.text


def test_an_erased_customer_is_offered_nothing(
    client: TestClient, engine: Engine, settings: Any
) -> None:
    cid, _email = _world(client, engine, settings, "admin")
    with engine.begin() as conn:
        erasure.erase(conn, cid, who=SYSTEM, now=datetime.now(UTC))
    page = html.unescape(client.get(f"/customers/{cid}", headers=HTML).text)
    assert 'id="no-offers"' in page and "Marathon guide" not in page
