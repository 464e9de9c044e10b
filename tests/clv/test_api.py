"""The lifetime-value routes and pages over real HTTP: figures, bad input, who may read them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.clv import service
from hxpulse.clv.schemas import CustomerValueRead, ValueReport
from hxpulse.config import Settings
from tests.auth.helpers import person, sign_in
from tests.clv.conftest import NOW, load_sample
from tests.clv.test_service import END


@pytest.fixture
def fitted(client: TestClient, engine: Engine, settings: Settings) -> None:
    client.app.state.clock = lambda: NOW  # type: ignore[attr-defined]
    load_sample(engine)
    service.fit_and_store(engine, settings.pulse, now=NOW, calibration_end=END)


def get(client: TestClient, path: str, key: str, **params: Any) -> Any:
    return client.get(path, params=params, headers={"authorization": f"Bearer {key}"})


def test_one_customers_value(client: TestClient, fitted: None, api_key: str) -> None:
    answer = get(client, "/api/customers/user_id:00004/value", api_key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert CustomerValueRead.model_validate(body).model_dump(mode="json") == body
    assert body["fitted"] is True and body["first_purchase"] == pytest.approx(29.33)
    assert body["clv_per_first_purchase"] == pytest.approx(body["clv"] / 29.33)
    assert get(client, "/api/customers/nobody@example.com/value", api_key).status_code == 404
    assert get(client, "/api/customers/id:x/value", api_key).status_code == 404


def test_the_value_report(client: TestClient, fitted: None, api_key: str) -> None:
    answer = get(client, "/api/value", api_key, limit=3)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert ValueReport.model_validate(body).model_dump(mode="json") == body
    assert body["model"]["customers"] == 2357 and len(body["top"]) == 3
    assert body["model"]["r"] == pytest.approx(0.243, rel=0.01)
    assert body["top"][0]["clv"] >= body["top"][1]["clv"] >= body["top"][2]["clv"]
    top = body["top"][0]
    one = get(client, f"/api/customers/{top['ref']}/value", api_key).json()
    assert one["clv"] == pytest.approx(top["clv"])
    assert body["value_at_risk"]["value"] > 0  # as of the app's clock, the day after the data
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "many"}):
        refused = get(client, "/api/value", api_key, **bad)
        assert refused.status_code in (400, 422) and "limit" in refused.text


def test_before_any_fit(client: TestClient, engine: Engine, api_key: str) -> None:
    load_sample(engine)
    body = get(client, "/api/value", api_key).json()
    assert body["fitted"] is False and body["model"] is None and body["top"] == []
    one = get(client, "/api/customers/00004/value", api_key).json()
    assert one["fitted"] is False and one["clv"] is None


@pytest.mark.parametrize(("role", "report", "customer"), [("admin", 200, 200),
                         ("analyst", 200, 200), ("agent", 403, 200)])  # fmt: skip
def test_who_may_read(client: TestClient, engine: Engine, fitted: None, role: str,
                      report: int, customer: int) -> None:  # fmt: skip
    person(engine, f"{role}@example.com", role=role)
    sign_in(client, f"{role}@example.com")
    api = client.get("/api/value")
    assert api.status_code == report
    if report == 403:
        assert "value:read" in api.json()["message"]
    assert client.get("/api/customers/00004/value").status_code == customer
    page = client.get("/value", follow_redirects=False)
    assert page.status_code == report
    assert ('href="/value"' in client.get("/customers").text) == (report == 200)  # navigation


def test_nobody_signed_in_is_refused(client: TestClient, fitted: None) -> None:
    assert client.get("/api/value").status_code == 401
    assert client.get("/api/customers/00004/value").status_code == 401
    assert client.get("/value", follow_redirects=False).status_code in (303, 401)


def test_the_value_page(client: TestClient, engine: Engine, fitted: None) -> None:
    person(engine, "analyst@example.com", role="analyst")
    sign_in(client, "analyst@example.com")
    page = client.get("/value")
    assert page.status_code == 200
    text = page.text
    assert 'id="clv-spread"' in text and 'id="value-at-risk"' in text
    start = text.index('id="clv-spread-data">') + len('id="clv-spread-data">')
    chart = orjson.loads(text[start : text.index("</script>", start)])
    assert sum(chart["counts"]) == 2357 and len(chart["labels"]) == len(chart["counts"])
    report = client.get("/api/value", params={"limit": 20}).json()
    for t in report["top"]:
        assert f'href="/customers/{t["customer_id"]}"' in text
    assert "<script>" not in text and "style=" not in text  # CSP: no inline script or style


def test_the_customer_page_shows_the_value(client: TestClient, engine: Engine,
                                           fitted: None) -> None:  # fmt: skip
    person(engine, "agent@example.com", role="agent")
    sign_in(client, "agent@example.com")
    value = client.get("/api/customers/00004/value").json()
    page = client.get(f"/customers/{value['customer_id']}").text
    assert 'id="value-card"' in page
    assert f"{value['clv']:,.2f}" in page
    assert f"{100 * value['p_alive']:.0f}%" in page
    assert f"{value['clv_per_first_purchase']:.1f}×" in page
    assert 'href="/value"' not in page  # an agent may not read the Value report
