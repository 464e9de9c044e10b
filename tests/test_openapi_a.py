"""The API description of the tracking, event, customer, pulse, journey and health routes: every
body and every 2xx answer is a named model, and what the routes answer fits those models; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Engine

from hxpulse.app import Health, create_app
from hxpulse.config import Settings
from hxpulse.customers import listing, queries
from hxpulse.customers.schemas import CustomerItem, CustomerPage, CustomerProfile
from hxpulse.events.schemas import (
    EventBatch,
    RudderSourceConfig,
    SegmentSettings,
    TrackResult,
)
from hxpulse.events.segment import SegmentBatch, SegmentMessage
from hxpulse.journey import funnel
from hxpulse.journey import service as journey
from hxpulse.journey.schemas import CustomerJourney, Funnel
from hxpulse.pulse import bands
from hxpulse.pulse import service as pulse
from hxpulse.pulse.schemas import (
    AtRisk,
    AtRiskCustomer,
    CustomerPulse,
    Distribution,
    Mover,
    PulseBands,
    PulseHistory,
    PulseMovers,
    PulsePoint,
)

CALLS = ("track", "identify", "alias", "page", "screen", "group")
# (method, path, body model or None, response model)
ROUTES: list[tuple[str, str, type[BaseModel] | None, type[BaseModel]]] = [
    *[("post", f"/v1/{kind}", SegmentMessage, TrackResult) for kind in CALLS],
    ("post", "/v1/batch", SegmentBatch, TrackResult),
    ("post", "/api/events", EventBatch, TrackResult),
    ("get", "/v1/projects/{write_key}/settings", None, SegmentSettings),
    ("get", "/sourceConfig", None, RudderSourceConfig),
    ("get", "/api/customers", None, CustomerPage),
    ("get", "/api/customers/{ref}", None, CustomerProfile),
    ("get", "/api/customers/{ref}/pulse", None, CustomerPulse),
    ("get", "/api/customers/{ref}/pulse/history", None, PulseHistory),
    ("get", "/api/pulse/at-risk", None, AtRisk),
    ("get", "/api/pulse/bands", None, PulseBands),
    ("get", "/api/pulse/movers", None, PulseMovers),
    ("get", "/api/journey/funnel", None, Funnel),
    ("get", "/api/customers/{ref}/journey", None, CustomerJourney),
    ("get", "/healthz", None, Health),
]
MINE = ("/v1/", "/sourceConfig", "/api/events", "/api/pulse", "/api/journey", "/healthz")
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where: Path = tmp_path_factory.mktemp("openapi") / "hxpulse.db"
    app = create_app(Settings(database_url=f"sqlite:///{where}", environment="test"))
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


def component(described: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    assert ref and ref.startswith("#/components/schemas/"), schema
    name = ref.rsplit("/", 1)[1]
    found = described["components"]["schemas"].get(name)
    assert found is not None, f"{ref} is not among the components"
    return name, found


@pytest.mark.parametrize(("method", "path", "body", "answer"), ROUTES)
def test_each_route_names_its_body_and_answer(
    described: dict[str, Any], method: str, path: str, body: type[BaseModel] | None,
    answer: type[BaseModel],
) -> None:  # fmt: skip
    operation = described["paths"][path][method]
    if body is not None:
        content = operation["requestBody"]["content"]["application/json"]["schema"]
        name, found = component(described, content)
        assert name == body.__name__ and found.get("properties"), found
    else:
        assert "requestBody" not in operation
    ok = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
    assert ok, operation["responses"]
    for response in ok.values():
        name, found = component(described, response["content"]["application/json"]["schema"])
        assert name == answer.__name__ and found.get("properties"), found


def test_no_route_of_these_areas_is_left_undescribed(described: dict[str, Any]) -> None:
    listed = {(method, path) for method, path, _, _ in ROUTES}
    for path, operations in described["paths"].items():
        if (
            path.startswith(MINE)
            or path.startswith("/api/customers")
            and (path.endswith(("/pulse", "/history", "/journey", "/customers", "{ref}")))
        ):
            for method in operations:
                assert (method, path) in listed, f"{method.upper()} {path} is not checked here"


def test_the_batch_envelopes_describe_messages_one_by_one(described: dict[str, Any]) -> None:
    schemas = described["components"]["schemas"]
    batch = schemas["SegmentBatch"]["properties"]["batch"]
    assert batch["items"] == {"$ref": "#/components/schemas/SegmentMessage"}
    assert batch["minItems"] == 1 and "batch" in schemas["SegmentBatch"]["required"]
    events = schemas["EventBatch"]["properties"]["events"]
    assert events["items"] == {"$ref": "#/components/schemas/EventCreate"}
    assert "Segment.io" in schemas["SegmentIntegrations"]["properties"]


# --------------------------------------------------------------------------------------------
# What the routes answer fits their models


def post(client: TestClient, key: str, path: str, body: object) -> Any:
    answer = client.post(path, content=orjson.dumps(body), auth=(key, ""),
                         headers={"content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def fill(client: TestClient, write_key: str, api_key: str) -> None:
    """A few customers through every way in: each call answers a TrackResult."""
    answers = [
        post(client, write_key, "/v1/identify", {"userId": "ann", "timestamp": at(40),
             "traits": {"email": "Ann@Example.com", "name": "Ann"}}),
        post(client, write_key, "/v1/track", {"userId": "ann", "event": "purchase",
             "timestamp": at(30), "properties": {"revenue": 80, "currency": "eur"}}),
        post(client, write_key, "/v1/page", {"anonymousId": "anon-1", "name": "Home",
             "timestamp": at(3)}),
        post(client, write_key, "/v1/screen", {"userId": "bob", "name": "Cart",
             "timestamp": at(2)}),
        post(client, write_key, "/v1/group", {"userId": "bob", "groupId": "g1",
             "traits": {"plan": "pro"}, "timestamp": at(2)}),
        post(client, write_key, "/v1/alias", {"previousId": "anon-1", "userId": "ann",
             "timestamp": at(1)}),
        post(client, write_key, "/v1/batch", {"sentAt": NOW.isoformat(), "batch": [
            {"type": "track", "userId": "bob", "event": "complaint", "timestamp": at(1)},
            {"type": "track", "userId": "ann", "event": "purchase", "timestamp": at(1),
             "properties": {"revenue": 20}},
            {"type": "track", "event": "no identity"},  # refused: listed in `rejected`
        ]}),
    ]  # fmt: skip
    events = client.post("/api/events", headers={"authorization": f"Bearer {api_key}"}, json={
        "events": [{"type": "purchase", "occurred_at": at(0.5), "email": "cy@example.com",
                    "value": 15.0, "channel": "store", "properties": {"sku": "A1"}}]})  # fmt: skip
    assert events.status_code == 200, events.text
    for answer in [*answers, events.json()]:
        TrackResult.model_validate(answer)
    assert answers[-1]["rejected"][0]["index"] == 2


def test_each_route_answers_what_its_model_describes(
    client: TestClient, write_key: str, api_key: str
) -> None:
    fill(client, write_key, api_key)
    bearer = {"authorization": f"Bearer {api_key}"}
    reads: list[tuple[str, dict[str, Any], type[BaseModel]]] = [
        ("/api/customers", {}, CustomerPage),
        ("/api/customers/ann", {}, CustomerProfile),
        ("/api/customers/ann/pulse", {}, CustomerPulse),
        ("/api/customers/ann/pulse", {"as_of": at(10)}, CustomerPulse),
        ("/api/customers/bob/pulse/history", {"points": 5}, PulseHistory),
        ("/api/pulse/at-risk", {}, AtRisk),
        ("/api/pulse/bands", {}, PulseBands),
        ("/api/pulse/movers", {"days": 30}, PulseMovers),
        ("/api/journey/funnel", {"start": "2020-01-01"}, Funnel),
        ("/api/customers/bob/journey", {}, CustomerJourney),
    ]
    for path, params, model in reads:
        answer = client.get(path, params=params, headers=bearer)
        assert answer.status_code == 200, (path, answer.text)
        checked = model.model_validate(answer.json())
        # nothing the route answers is outside the model, nothing changes on the way back
        assert checked.model_dump(mode="json", by_alias=True) == answer.json(), path
    page = CustomerPage.model_validate(client.get("/api/customers", headers=bearer).json())
    assert len(page.items) == 3 and all(item.identities for item in page.items)
    profile = client.get("/api/customers/ann", headers=bearer).json()
    assert profile["traits"]["name"] == "Ann" and profile["events"]
    movers = client.get("/api/pulse/movers", params={"days": 30}, headers=bearer).json()
    assert movers["rises"] or movers["falls"]
    settings = client.get(f"/v1/projects/{write_key}/settings")
    assert settings.status_code == 200, settings.text
    assert (
        SegmentSettings.model_validate(settings.json()).integrations.segment_io.apiKey == write_key
    )
    source = client.get("/sourceConfig", params={"writeKey": write_key})
    assert source.status_code == 200, source.text
    assert RudderSourceConfig.model_validate(source.json()).source.writeKey == write_key
    assert Health.model_validate(client.get("/healthz").json()).status == "ok"


def lossless(model: type[BaseModel], built: Any) -> None:
    """What the route answered before it had `model` (its dict written by Pydantic as any
    value) is exactly what it answers through `model`: no field lost, none changed."""
    before = TypeAdapter(Any).dump_python(built, mode="json")
    after = model.model_validate(built).model_dump(mode="json", by_alias=True)
    assert after == before, model.__name__


def test_the_models_keep_everything_the_services_build(
    client: TestClient, engine: Engine, settings: Settings, write_key: str, api_key: str
) -> None:
    fill(client, write_key, api_key)
    live, now = settings.live, datetime.now(UTC)
    with engine.connect() as conn:
        ann, bob = queries.find(conn, "ann"), queries.find(conn, "bob")
        found = listing.search(conn, listing.ListQuery())
        pulse.with_pulse(conn, found["items"], live, now)
        lossless(CustomerPage, found)
        assert {type(item) for item in found["items"]} == {dict}
        lossless(CustomerItem, found["items"][0])
        for customer_id in (ann, bob):
            lossless(CustomerProfile, queries.profile(conn, customer_id=customer_id))
            lossless(CustomerPulse, pulse.explain(conn, live, customer_id=customer_id, now=now))
            lossless(CustomerPulse, pulse.explain(conn, live, customer_id=customer_id, now=now,
                                                  as_of=now - timedelta(days=5)))  # fmt: skip
            lossless(CustomerJourney, journey.customer_journey(conn, live,
                                                               customer_id=customer_id, now=now))  # fmt: skip
        for point in pulse.history(conn, settings.pulse, customer_id=ann, start=None, end=now,
                                   points=4):  # fmt: skip
            lossless(PulsePoint, point)
        listed = bands.at_risk_list(conn, live, now, limit=10)
        lossless(AtRisk, listed)
        for item in listed["items"]:
            lossless(AtRiskCustomer, item)
        lossless(Distribution, pulse.distribution(conn, settings.pulse, now))
        moved = pulse.movers(conn, settings.pulse, now, days=30)
        for item in moved["rises"] + moved["falls"]:
            lossless(Mover, item)
        lossless(Funnel, funnel.funnel(conn, live, now=now))
        lossless(Funnel, funnel.funnel(conn, live, start=now - timedelta(days=60), end=now,
                                        channel="web", department="sales", now=now))  # fmt: skip
