"""The NUL rule: a NUL character anywhere in a query, a path, a form or a JSON body is refused
naming where it is, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine

from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.web.text import nul_path

HTML = {"accept": "text/html"}


class Note(BaseModel):
    text: str


def test_nul_path_names_the_first_place() -> None:
    assert nul_path({"a": [1, "x", {"b": "fine"}]}) is None
    assert nul_path({"a": [1, "x\u0000"]}) == ("a[1]", "text contains a NUL character "
                                               "(\\u0000), which cannot be stored")  # fmt: skip
    assert nul_path({"p": {"k\u0000": 1}})[0] == "p.k\\u0000"  # type: ignore[index]
    assert nul_path("\u0000") == ("(value)", nul_path("\u0000")[1])  # type: ignore[index]
    deep: object = "\u0000"
    for _ in range(5000):  # no recursion: any depth is walked
        deep = [deep]
    assert nul_path(deep) is not None


def test_nul_in_a_query_or_a_path_is_400_naming_it(client: TestClient, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    for path, field in (("/api/customers?q=a%00b", "q"), ("/api/customers/a%00b", "ref"),
                        ("/api/surveys/a%00b", "ref"), ("/api/nps?department=%00", "department"),
                        ("/api/customers/u1/pulse/history?start=%00", "start")):  # fmt: skip
        got = client.get(path, headers=headers)
        assert got.status_code == 400, (path, got.text)
        assert got.json()["errors"] == [{"field": field, "message": "text contains a NUL "
                                         "character (\\u0000), which cannot be stored"}]  # fmt: skip


def test_nul_in_a_json_body_is_400_naming_the_field(client: TestClient, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    made = client.post("/api/segments", headers=headers,
                       json={"name": "A\u0000", "definition": {"field": "stage", "op": "eq",
                                                               "value": "lead"}})  # fmt: skip
    assert made.status_code == 400 and made.json()["errors"][0]["field"] == "name"
    survey = client.post("/api/surveys", headers=headers, json={"name": "S", "followups": {
        "promoter": "Why\u0000?"}})  # fmt: skip
    assert survey.status_code == 400 and "followups.promoter: text contains a NUL" in survey.text


def test_nul_in_forms_is_400_naming_the_field(client: TestClient, engine: Engine) -> None:
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    refused = client.post("/login", data={"email": "a\u0000@example.com", "password": "x" * 12,
                                          "csrf_token": token}, headers=HTML)  # fmt: skip
    assert refused.status_code == 400 and "email: text contains a NUL character" in refused.text
    with engine.begin() as conn:
        auth.create_user(conn, email="nul@example.com", password="nul-password-1", role="admin")
    client.post("/login", data={"email": "nul@example.com", "password": "nul-password-1",
                                "csrf_token": token})  # fmt: skip
    page = client.get("/segments").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    segment = client.post("/segments", headers=HTML, data={
        "csrf_token": token, "match": "all", "name": "N\u0000", "c0.subject": "stage",
        "c0.op": "eq", "c0.value": "lead"})  # fmt: skip
    assert segment.status_code == 400 and "name: text contains a NUL character" in segment.text
    survey = client.post("/surveys/new", headers=HTML, data={
        "csrf_token": token, "name": "S", "kind": "nps", "question": "Why\u0000"})  # fmt: skip
    assert survey.status_code == 400 and "question: text contains a NUL" in survey.text
    listing = client.get("/customers?q=%00", headers=HTML)
    assert listing.status_code == 400 and "q: text contains a NUL character" in listing.text
    assert client.get("/api/segments", headers=HTML).status_code == 200  # still signed in


def test_nul_in_a_body_fastapi_parses_itself(tmp_path: Path) -> None:
    """Routes that declare a model take their body from FastAPI: the rule holds for them too."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 't.db'}", environment="test"))

    @app.post("/api/test-only-note")
    def note(body: Note) -> dict[str, str]:
        return {"text": body.text}

    with TestClient(app) as client:
        assert client.post("/api/test-only-note", json={"text": "ok"}).json() == {"text": "ok"}
        refused = client.post("/api/test-only-note", json={"text": "a\u0000"})
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "text"
