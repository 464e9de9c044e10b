"""The API description of the people, keys, account, privacy and audit routes: each body and
each answer names a model in the components, and real answers fit those models exactly (every
key the services build is declared, so no field is silently dropped; no secret leaks)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel, RootModel
from sqlalchemy import Engine, insert

from hxpulse.audit import query
from hxpulse.audit.schemas import AuditPage
from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth import users
from hxpulse.auth.schemas import (
    AccountRead,
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyRead,
    PasswordReset,
    PasswordResetRead,
    SignedOutEverywhere,
    UserCreate,
    UserCreated,
    UserList,
    UserListItem,
    UserRead,
    UserSignedOut,
    UserUpdate,
)
from hxpulse.cases import service as cases
from hxpulse.clv import service as clv
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.feeds import service as feeds
from hxpulse.outbox.schemas import DeliveryList, DeliveryRead, Replayed, ReplayFilter
from hxpulse.privacy import links, service
from hxpulse.privacy.export_schema import CustomerExport
from hxpulse.privacy.public import _held
from hxpulse.privacy.schemas import (
    ConsentRead,
    ConsentUpdate,
    ErasureRead,
    PreferencesAnswer,
    PreferencesErased,
    PreferencesRead,
    RequestList,
)
from hxpulse.web.openapi import REF
from hxpulse.webhooks.schemas import (
    PingQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookUpdate,
)
from tests.auth.helpers import person, sign_in
from tests.privacy import scenario

Model = type[BaseModel]
# (method, path, body model, success status, answer model): every route of these domains
ROUTES: list[tuple[str, str, Model | None, str, Model | None]] = [
    ("get", "/api/users", None, "200", UserList),
    ("post", "/api/users", UserCreate, "201", UserCreated),
    ("patch", "/api/users/{user_id}", UserUpdate, "200", UserRead),
    ("post", "/api/users/{user_id}/password", PasswordReset, "200", PasswordResetRead),
    ("post", "/api/users/{user_id}/sign-out", None, "200", UserSignedOut),
    ("get", "/api/keys", None, "200", KeyList),
    ("post", "/api/keys", KeyCreate, "201", KeyCreated),
    ("delete", "/api/keys/{key_id}", None, "204", None),
    ("get", "/api/account", None, "200", AccountRead),
    ("post", "/api/account/sign-out-everywhere", None, "200", SignedOutEverywhere),
    ("get", "/api/customers/{ref}/consent", None, "200", ConsentRead),
    ("put", "/api/customers/{ref}/consent", ConsentUpdate, "200", ConsentRead),
    ("get", "/api/customers/{ref}/export", None, "200", CustomerExport),
    ("post", "/api/customers/{ref}/erase", None, "200", ErasureRead),
    ("get", "/api/privacy/requests", None, "200", RequestList),
    ("get", "/api/preferences/{token}", None, "200", PreferencesAnswer),
    ("get", "/api/audit", None, "200", AuditPage),
    ("get", "/api/webhooks", None, "200", WebhookList),
    ("post", "/api/webhooks", WebhookCreate, "201", WebhookCreated),
    ("get", "/api/webhooks/{endpoint_id}", None, "200", WebhookRead),
    ("patch", "/api/webhooks/{endpoint_id}", WebhookUpdate, "200", WebhookRead),
    ("delete", "/api/webhooks/{endpoint_id}", None, "204", None),
    ("post", "/api/webhooks/{endpoint_id}/rotate", None, "200", WebhookCreated),
    ("post", "/api/webhooks/{endpoint_id}/test", None, "202", PingQueued),
    ("get", "/api/deliveries", None, "200", DeliveryList),
    ("get", "/api/deliveries/{delivery_id}", None, "200", DeliveryRead),
    ("post", "/api/deliveries/replay", ReplayFilter, "200", Replayed),
    ("post", "/api/deliveries/{delivery_id}/replay", None, "200", Replayed),
]
OWN_PREFIXES = ("/api/users", "/api/keys", "/api/account", "/api/privacy", "/api/preferences",
                "/api/audit", "/api/webhooks", "/api/deliveries")  # fmt: skip
SECRETS = ("password_hash", "key_hash")


def _component(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    assert set(ref) == {"$ref"}, ref
    name = ref["$ref"].removeprefix(REF.format(model=""))
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def _check_model(schema: dict[str, Any], ref: dict[str, Any], model: Model) -> None:
    """`ref` names `model`'s component, which has `model`'s properties (a root model: each of
    its alternatives is a component with properties)."""
    assert ref == {"$ref": REF.format(model=model.__name__)}
    found = _component(schema, ref)
    if issubclass(model, RootModel):
        assert found["anyOf"] and all(_component(schema, a)["properties"] for a in found["anyOf"])
        return
    assert set(found["properties"]) == set(model.model_fields), model.__name__


def _properties(schema: dict[str, Any]) -> set[str]:
    return {p for c in schema["components"]["schemas"].values() for p in c.get("properties", {})}


def test_every_body_and_answer_names_its_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for method, path, body, status, answer in ROUTES:
        operation = paths[path][method]
        if body is None:
            assert "requestBody" not in operation, (method, path)
        else:
            content = operation["requestBody"]["content"]
            assert list(content) == ["application/json"], (method, path)
            _check_model(schema, content["application/json"]["schema"], body)
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes == [status], (method, path)
        described = operation["responses"][status]
        if answer is None:
            assert "content" not in described, (method, path)
        else:
            _check_model(schema, described["content"]["application/json"]["schema"], answer)
    own = {(method, path) for path, ops in paths.items() for method in ops
           if path.startswith(OWN_PREFIXES)}  # fmt: skip
    assert own <= {(method, path) for method, path, *_ in ROUTES}  # a new route is listed here
    # no hash is ever described, and only a created key carries its secret
    assert not set(SECRETS) & _properties(schema)
    holders = [n for n, c in schema["components"]["schemas"].items()
               if "secret" in c.get("properties", {})]  # fmt: skip
    assert sorted(holders) == ["KeyCreated", "WebhookCreated"]  # and a webhook's, on creation


def _fits(model: Model, answer: Any, status: int = 200) -> Any:
    """The answer's JSON, which has `status` and fits `model`, holding no hash."""
    assert answer.status_code == status, answer.text
    assert not any(secret in answer.text for secret in SECRETS)
    model.model_validate(answer.json())
    return answer.json()


def test_real_answers_fit_their_models(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    shop = scenario.load(engine, settings)
    ann, bob = shop["ann"], shop["bob"]
    run_write(engine, lambda conn: cases.create(conn, settings, customer_id=ann, reason="Call",
                                                source_key="c", now=scenario.NOW))  # fmt: skip
    asking = Who("customer", ann, f"customer {ann}", None)
    run_write(engine, lambda conn: service.request_erasure(
        conn, ann, who=asking, now=scenario.NOW, due_days=30))  # fmt: skip
    run_write(engine, lambda conn: feeds.publish(
        conn, key="told-ann", scope="customer", customer_id=ann, type="notification",
        data={"title": "Resolved"}, now=scenario.NOW))  # fmt: skip
    run_write(engine, lambda conn: conn.execute(insert(clv.values_t).values(
        customer_id=ann, expected_purchases=1.5, p_alive=0.8, expected_spend=20.0, clv=30.0,
        first_purchase=25.0, fitted_at=scenario.NOW)))  # a stored lifetime value  # fmt: skip
    person(engine, "boss@example.com", role="admin")
    csrf = {"x-csrf-token": sign_in(client, "boss@example.com")}
    offer = client.post("/api/offers", json={"key": "news", "name": "News", "kind": "content",
                                             "eligibility": {"consent": False}},
                        headers=csrf)  # fmt: skip
    assert offer.status_code == 201, offer.text
    shown = client.get(f"/api/customers/{ann}/offers")  # served and recorded: an exposure
    assert shown.status_code == 200 and shown.json()["offers"], shown.text

    made = _fits(UserCreated, client.post("/api/users", json={"email": "ann@example.com",
                                                              "name": "Ann"}, headers=csrf), 201)  # fmt: skip
    assert made["password"] and made["user"]["name"] == "Ann"
    user_id = made["user"]["id"]
    listed = _fits(UserList, client.get("/api/users"))
    assert [u["sessions"] for u in listed["items"]] == [1, 0]
    changed = client.patch(f"/api/users/{user_id}", json={"role": "analyst"}, headers=csrf)
    assert _fits(UserRead, changed)["role"] == "analyst"
    reset = client.post(f"/api/users/{user_id}/password", json={}, headers=csrf)
    assert _fits(PasswordResetRead, reset)["password"]
    ended = client.post(f"/api/users/{user_id}/sign-out", headers=csrf)
    assert _fits(UserSignedOut, ended) == {"user_id": user_id, "sessions_ended": 0}

    key = _fits(KeyCreated, client.post("/api/keys", json={"name": "BI", "scopes": ["write",
                                                           "read"]}, headers=csrf), 201)  # fmt: skip
    assert key["scopes"] == ["read", "write"] and key["secret"].startswith("hxk_")
    keys = client.get("/api/keys")
    assert key["secret"] not in keys.text and "secret" not in keys.text
    assert _fits(KeyList, keys)["items"][0]["scopes"] == "read,write"
    revoked = client.delete(f"/api/keys/{key['id']}", headers=csrf)
    assert revoked.status_code == 204 and revoked.content == b""
    mine = _fits(AccountRead, client.get("/api/account"))
    assert [s["current"] for s in mine["sessions"]] == [True]

    consent = _fits(ConsentRead, client.get(f"/api/customers/{ann}/consent"))
    assert len(consent["purposes"]) == 4
    put = client.put(f"/api/customers/{ann}/consent", json={"surveys": "granted"}, headers=csrf)
    assert _fits(ConsentRead, put)["changed"] == ["surveys"]
    doc = _fits(CustomerExport, client.get(f"/api/customers/{ann}/export"))
    CustomerExport.model_validate(doc, extra="forbid")  # the document as sent: all described
    lists = [k for k, v in CustomerExport.model_fields.items() if "list" in str(v.annotation)]
    assert [k for k in lists if not doc[k]] == []  # every kind of item was checked
    token = links.token_for(client.app.state.secret, ann)  # type: ignore[attr-defined]
    held = _fits(PreferencesAnswer, client.get(f"/api/preferences/{token}"))
    assert held["erasure"]["pending"] is True and held["identities"]
    requests = _fits(RequestList, client.get("/api/privacy/requests"))
    assert [r["customer_id"] for r in requests["items"]] == [ann]
    erased = _fits(ErasureRead, client.post(f"/api/customers/{bob}/erase", headers=csrf))
    assert erased["customer_id"] == bob and erased["events"] >= 2
    gone = links.token_for(client.app.state.secret, bob)  # type: ignore[attr-defined]
    answer = PreferencesAnswer.model_validate(_fits(PreferencesAnswer,
                                                    client.get(f"/api/preferences/{gone}")))  # fmt: skip
    assert isinstance(answer.root, PreferencesErased)
    page = _fits(AuditPage, client.get("/api/audit", params={"limit": 3}))
    assert len(page["items"]) == 3 and page["next_before"] is not None
    assert key["secret"] not in client.get("/api/audit", params={"limit": 500}).text

    # what the services build, before the models filter it: every key is declared
    with engine.connect() as conn:
        now = scenario.NOW
        UserList.model_validate({"items": users.list_users(conn, now=now)}, extra="forbid")
        UserRead.model_validate(users.get(conn, user_id), extra="forbid")
        KeyList.model_validate({"items": auth.list_keys(conn)}, extra="forbid")
        ConsentRead.model_validate(service.consent_of(conn, ann), extra="forbid")
        PreferencesRead.model_validate(_held(conn, ann, settings), extra="forbid")
        pending = service.pending_requests(conn, due_days=30)
        assert [r.pop("counts") for r in pending] == [None]  # nothing yet: not shown
        RequestList.model_validate({"items": pending}, extra="forbid")
        AuditPage.model_validate(query.read(conn, query.parse()), extra="forbid")
    assert set(UserListItem.model_fields) - set(UserRead.model_fields) == {"sessions"}
    assert not set(SECRETS) & (set(KeyRead.model_fields) | set(UserRead.model_fields))
    done = run_write(engine, lambda conn: service.erase(conn, ann, who=asking, now=now))
    ErasureRead.model_validate(done, extra="forbid")

    out = client.post("/api/account/sign-out-everywhere", headers=csrf)
    assert _fits(SignedOutEverywhere, out) == {"sessions_ended": 1}
