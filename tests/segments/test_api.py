"""Segments through HTTP (API keys, sessions, CSRF), the pages without JavaScript, and the CLI."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.auth import service as auth
from hxpulse.cli.main import app
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.customers.test_pages import sign_in

APP_TWICE = {"event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}}


@pytest.fixture
def shoppers(engine: Engine) -> None:
    """Three customers: two bought twice via the app lately, one once on the web."""
    now = datetime.now(UTC)
    events = []
    for n, (who, channel, times) in enumerate(
        [
            ("amy@example.com", "app", 2),
            ("<b>bo</b>@example.com", "app", 3),
            ("cal@example.com", "web", 1),
        ]
    ):
        for t in range(times):
            events.append(EventIn(message_id=f"s{n}-{t}", kind="track", type="purchase",
                                  occurred_at=now - timedelta(days=5 + t), channel=channel,
                                  identities=[("email", who)], value=10.0))  # fmt: skip
    ingest(engine, events)


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
def read_key(engine: Engine) -> str:
    with engine.begin() as conn:
        return auth.create_key(conn, name="reader", scopes=["read"])[1]


def test_api_keys_and_scopes(
    client: TestClient, api_key: str, read_key: str, shoppers: None
) -> None:
    body = {"name": "App regulars", "definition": APP_TWICE}
    assert client.post("/api/segments", json=body).status_code == 401
    assert client.get("/api/segments").status_code == 401
    assert client.post("/api/segments/count", json={"definition": APP_TWICE}).status_code == 401
    refused = client.post("/api/segments", json=body, headers=bearer(read_key))
    assert refused.status_code == 403 and "write" in refused.json()["message"]

    made = client.post("/api/segments", json=body, headers=bearer(api_key))
    assert made.status_code == 201, made.text
    segment = made.json()
    assert segment["count"] == 2 and segment["definition"] == APP_TWICE
    again = client.post(
        "/api/segments", json={**body, "name": "app REGULARS"}, headers=bearer(api_key)
    )
    assert again.status_code == 409

    listed = client.get("/api/segments", headers=bearer(read_key)).json()["items"]
    assert [(s["name"], s["count"]) for s in listed] == [("App regulars", 2)]
    one = client.get(f"/api/segments/{segment['id']}", headers=bearer(read_key)).json()
    assert one["count"] == 2
    count = client.post("/api/segments/count", json={"definition": {"event": {"type": "purchase"}}},
                        headers=bearer(read_key))  # fmt: skip
    assert count.status_code == 200 and count.json() == {"count": 3}

    members = client.get(f"/api/segments/{segment['id']}/members?limit=1", headers=bearer(read_key))
    assert members.status_code == 200
    page = members.json()
    assert len(page["items"]) == 1 and page["items"][0]["email"] == "amy@example.com"
    assert set(page["items"][0]) == {"id", "name", "email", "phone", "stage", "pulse", "band",
                                     "created_at"}  # fmt: skip
    second = client.get(f"/api/segments/{segment['id']}/members?limit=1&offset=1",
                        headers=bearer(read_key)).json()  # fmt: skip
    assert second["items"][0]["email"] == "<b>bo</b>@example.com"

    exported = client.get(f"/api/segments/{segment['id']}/export.csv", headers=bearer(read_key))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="segment-app-regulars.csv"' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["email"] for r in rows] == ["amy@example.com", "<b>bo</b>@example.com"]
    renamed = client.put(f"/api/segments/{segment['id']}", headers=bearer(api_key),
                         json={**body, "name": "Stammkunden München 東京"})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    named = client.get(f"/api/segments/{segment['id']}/export.csv", headers=bearer(read_key))
    assert named.status_code == 200  # a header is latin-1: the file name keeps ASCII only
    assert 'filename="segment-stammkunden-m-nchen.csv"' in named.headers["content-disposition"]
    assert all(r["stage"] and float(r["pulse"]) > 0 for r in rows)

    assert (
        client.put(
            f"/api/segments/{segment['id']}", json=body, headers=bearer(read_key)
        ).status_code
        == 403
    )
    changed = client.put(f"/api/segments/{segment['id']}", headers=bearer(api_key),
                         json={"name": "Buyers", "definition": {"event": {"type": "purchase"}}})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["name"] == "Buyers"
    assert (
        client.delete(f"/api/segments/{segment['id']}", headers=bearer(read_key)).status_code == 403
    )
    assert (
        client.delete(f"/api/segments/{segment['id']}", headers=bearer(api_key)).status_code == 204
    )
    assert client.get(f"/api/segments/{segment['id']}", headers=bearer(api_key)).status_code == 404


BAD_BODIES: list[tuple[Any, str]] = [
    ({"name": "x", "definition": {"all": [{"field": "stage", "op": "eq", "value": "customer"},
                                          {"field": "pulse", "op": "eq", "value": 1}]}},
     "definition.all[1].op"),
    ({"name": "", "definition": APP_TWICE}, "name"),
    ({"name": "x"}, "definition"),
    ({"name": "x", "definition": APP_TWICE, "colour": "red"}, "colour"),
    ({"name": "x", "definition": {"event": {"type": "purchase", "channel": "pigeon"}}},
     "definition.event.channel"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_invalid_bodies_are_400_with_the_place(
    client: TestClient, api_key: str, body: Any, field: str
) -> None:
    answer = client.post("/api/segments", json=body, headers=bearer(api_key))
    assert answer.status_code == 400, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_session_writes_need_the_csrf_header(
    client: TestClient, engine: Engine, shoppers: None
) -> None:
    sign_in(client, engine, role="analyst")
    body = {"name": "From the page", "definition": APP_TWICE}
    assert client.post("/api/segments", json=body).status_code == 403
    html = client.get("/segments").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    made = client.post("/api/segments", json=body, headers={"x-csrf-token": token})
    assert made.status_code == 201
    # every session POST to the API carries the token, a count too (the page's script sends it)
    assert client.post("/api/segments/count", json={"definition": APP_TWICE}).status_code == 403
    count = client.post("/api/segments/count", json={"definition": APP_TWICE},
                        headers={"x-csrf-token": token})  # fmt: skip
    assert count.json() == {"count": 2}


def form(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, "match": "all", **fields}


def test_pages_save_without_javascript(client: TestClient, engine: Engine, shoppers: None) -> None:
    assert client.get("/segments", headers={"accept": "text/html"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    sign_in(client, engine, role="analyst")
    html = client.get("/segments").text
    assert 'href="/segments" aria-current="page"' in html and "No saved segments yet" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"name": "<i>App</i> twice", "c0.subject": "event", "c0.key": "purchase",
              "c0.channel": "app", "c0.days": "90", "c0.min": "2",
              "c2.subject": "stage", "c2.op": "gte", "c2.value": "prospect"}  # fmt: skip
    assert client.post("/segments", data=form("forged", **fields)).status_code == 403
    saved = client.post("/segments", data=form(token, **fields), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    detail = client.get(saved.headers["location"]).text
    assert "&lt;i&gt;App&lt;/i&gt; twice" in detail and "<i>App</i>" not in detail
    assert '<strong id="member-count">2</strong>' in detail
    assert "&lt;b&gt;bo&lt;/b&gt;@example.com" in detail and "<b>bo</b>" not in detail
    assert "at least 2 purchase events via app in the last 90 days" in detail
    assert re.search(r'href="/customers/\d+"', detail)
    listing = client.get("/segments").text
    assert "&lt;i&gt;App&lt;/i&gt; twice" in listing and ">2</td>" in listing

    wrong = client.post("/segments", data=form(token, name="Bad", **{
        "c0.subject": "pulse", "c0.op": "eq", "c0.value": "3",
        "c1.subject": "stage", "c1.op": "eq", "c1.value": "vip"}))  # fmt: skip
    assert wrong.status_code == 400
    assert "Condition 1 (op)" in wrong.text and "Condition 2 (value): unknown stage" in wrong.text
    assert 'value="Bad"' in wrong.text  # the form keeps what was typed
    taken = client.post("/segments", data=form(token, **fields))
    assert taken.status_code == 400 and "already exists" in taken.text

    segment_id = saved.headers["location"].rsplit("/", 1)[1]
    copy = client.get(f"/segments?from={segment_id}").text
    assert 'value="purchase"' in copy and "(copy)" in copy
    gone = client.post(f"/segments/{segment_id}/delete", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    assert client.get(f"/segments/{segment_id}", headers={"accept": "text/html"}).status_code == 404


def test_cli(database_url: str, engine: Engine, shoppers: None, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--db", database_url, "segments", *args])

    empty = run("list")
    assert empty.exit_code == 0 and "No saved segments" in empty.stdout
    source = tmp_path / "def.json"
    source.write_bytes(orjson.dumps(APP_TWICE))
    made = run("create", "App twice", "--definition", f"@{source}")
    assert made.exit_code == 0, made.output
    assert "2 customers now" in made.stdout
    inline = run("create", "Web", "--definition", '{"event": {"type": "purchase", "channel": "web"}}',
                 "--json")  # fmt: skip
    assert inline.exit_code == 0 and orjson.loads(inline.stdout)["count"] == 1
    bad = run("create", "Bad", "--definition", '{"field": "stage", "op": "eq", "value": "x"}')
    assert bad.exit_code == 1 and "definition.value" in bad.output
    assert run("create", "Web", "--definition", "{}").exit_code == 1
    listed = orjson.loads(run("list", "--json").stdout)
    assert [(s["name"], s["count"]) for s in listed] == [("App twice", 2), ("Web", 1)]
    assert "App twice" in run("list").stdout
    members = orjson.loads(run("members", "app twice", "--limit", "1", "--json").stdout)
    assert members["count"] == 2 and [m["email"] for m in members["items"]] == ["amy@example.com"]
    assert "amy@example.com" in run("members", "App twice").stdout
    out = tmp_path / "out.csv"
    exported = run("export", "App twice", str(out))
    assert exported.exit_code == 0 and "Wrote 2 customers" in exported.stdout
    assert len(out.read_text().splitlines()) == 3
    assert run("members", "nobody").exit_code == 1
    assert run("delete", "Web").exit_code == 0
    assert [s["name"] for s in orjson.loads(run("list", "--json").stdout)] == ["App twice"]
