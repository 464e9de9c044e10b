"""The API description of the survey and segment routes: every body a route reads and every
answer it gives is a named model in `/openapi.json`, and real answers fit their models exactly
(the routes' answers are also compared with what they returned before they had a model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
import pytest
from fastapi import routing
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, insert

from hxpulse.segments import shapes as seg
from hxpulse.segments.service import segments_t
from hxpulse.surveys import out
from hxpulse.surveys.report_out import ReportOut
from hxpulse.surveys.schemas import InviteIn, ResponsesIn, SurveyIn, ThemeMerge, ThemeRename
from tests.surveys.test_record import TEXTS

NOW = datetime.now(UTC)
M = TypeVar("M", bound=BaseModel)
CSV = "text/csv"

# (method, path): (the body's model or None, the 2xx answer's model, or CSV, or None: no body)
ROUTES: dict[tuple[str, str], tuple[type[BaseModel] | None, type[BaseModel] | str | None]] = {
    ("get", "/api/surveys"): (None, out.SurveyList),
    ("post", "/api/surveys"): (SurveyIn, out.SurveyOut),
    ("get", "/api/surveys/{ref}"): (None, out.SurveyOut),
    ("put", "/api/surveys/{survey_id}"): (SurveyIn, out.SurveyOut),
    ("post", "/api/surveys/{survey_id}/invite"): (InviteIn, out.InviteOut),
    ("post", "/api/surveys/run"): (None, out.RunOut),
    ("post", "/api/responses"): (ResponsesIn, out.BatchOut),
    ("get", "/api/responses"): (None, out.AnswerList),
    ("get", "/api/nps"): (None, ReportOut),
    ("get", "/api/themes"): (None, out.ThemeDrivers),
    ("post", "/api/themes/fit"): (None, out.FitOut),
    ("patch", "/api/themes/{theme_id}"): (ThemeRename, out.ThemeOut),
    ("post", "/api/themes/{theme_id}/merge"): (ThemeMerge, out.ThemeOut),
    ("get", "/api/segments"): (None, seg.SegmentList),
    ("post", "/api/segments"): (seg.SegmentIn, seg.SegmentCounted),
    ("post", "/api/segments/count"): (seg.SegmentDraft, seg.Count),
    ("get", "/api/segments/{segment_id}"): (None, seg.SegmentCounted),
    ("put", "/api/segments/{segment_id}"): (seg.SegmentIn, seg.SegmentOut),
    ("delete", "/api/segments/{segment_id}"): (None, None),
    ("get", "/api/segments/{segment_id}/members"): (None, seg.MembersPage),
    ("get", "/api/segments/{segment_id}/export.csv"): (None, CSV),
}
MINE = ("/api/surveys", "/api/responses", "/api/nps", "/api/themes", "/api/segments")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def component(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    found: dict[str, Any] = schema["components"]["schemas"][ref.removeprefix(prefix)]
    return found


def test_every_body_and_answer_is_a_named_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listed = {
        (method, path)
        for path, item in schema["paths"].items()
        if path.startswith(MINE)
        for method in item
    }
    assert listed == set(ROUTES)
    for (method, path), (body, answer) in ROUTES.items():
        operation = schema["paths"][path][method]
        if body is not None:
            content = operation["requestBody"]["content"]
            assert list(content) == ["application/json"], path
            ref = content["application/json"]["schema"]["$ref"]
            assert ref.endswith(f"/{body.__name__}"), (path, ref)
            assert component(schema, ref), (path, ref)
        else:
            assert "requestBody" not in operation, path
        [(status, described)] = [(s, r) for s, r in operation["responses"].items() if s < "300"]
        if answer is None:
            assert status == "204" and "content" not in described, path
        elif answer == CSV:
            assert list(described["content"]) == [CSV], path
            assert described["content"][CSV]["schema"] == {"type": "string"}
        else:
            assert isinstance(answer, type)
            content = described["content"]
            assert list(content) == ["application/json"], path
            ref = content["application/json"]["schema"]["$ref"]
            assert ref.endswith(f"/{answer.__name__}"), (path, ref)
            assert component(schema, ref)["properties"], (path, ref)
        refused = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert refused["$ref"].endswith("/Error")


def test_every_ref_in_the_description_resolves(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    names = set(schema["components"]["schemas"])
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"].removeprefix("#/components/schemas/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert refs <= names, refs - names


@pytest.fixture
def unchanged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each answer written through its response model must equal what the route returned
    (as FastAPI wrote it without a model): a model that drops or changes a thing is listed."""
    original = routing.serialize_response
    changed: list[str] = []

    async def compared(**kwargs: Any) -> Any:
        result = await original(**kwargs)
        if kwargs.get("field") is not None:
            written = orjson.loads(result) if kwargs.get("dump_json") else result
            before = json.loads(json.dumps(jsonable_encoder(kwargs["response_content"])))
            if written != before:
                changed.append(f"{before!r}\n  became\n{written!r}")
        return result

    monkeypatch.setattr(routing, "serialize_response", compared)
    yield changed
    assert changed == []


def fits(model: type[M], answer: Any, status: int = 200) -> M:
    assert answer.status_code == status, answer.text
    return model.model_validate(answer.json())


def answer_row(i: int, survey: str, score: int, **extra: Any) -> dict[str, Any]:
    return {"survey": survey, "score": score, "email": f"c{i}@example.com",
            "answered_at": (NOW - timedelta(days=i % 40)).isoformat(), **extra}  # fmt: skip


def test_real_answers_fit_their_models(
    client: TestClient, api_key: str, engine: Engine, unchanged: list[str]
) -> None:
    h = auth(api_key)
    buyers = {"event": {"type": "purchase"}}
    made = fits(seg.SegmentCounted, client.post("/api/segments", json={"name": "Buyers",
                "description": "Bought once", "definition": buyers}, headers=h), 201)  # fmt: skip
    nps = fits(out.SurveyOut, client.post("/api/surveys", json={"name": "Relationship NPS",
               "trigger_event": "purchase", "followups": {"promoter": "Why?"}}, headers=h), 201)  # fmt: skip
    for name, kind in (("Support CSAT", "csat"), ("Effort", "ces"), ("Stars", "custom")):
        fits(out.SurveyOut, client.post("/api/surveys", json={"name": name, "kind": kind,
             "segment_id": made.id, "every_days": 30, "active": False}, headers=h), 201)  # fmt: skip
    events = [{"type": "purchase", "occurred_at": NOW.isoformat(), "email": f"c{i}@example.com",
               "department": "Shop"} for i in range(3)]  # fmt: skip
    assert client.post("/api/events", json={"events": events}, headers=h).status_code < 300

    # answers: a batch with a bad one, of every kind, with whys enough for themes
    whys = [t for group in TEXTS.values() for t in group * 3]
    rows = [answer_row(i, "Relationship NPS", i % 11, why=w, department=["Support", "Sales"][i % 2],
                       channel=["web", "app"][i % 2]) for i, w in enumerate(whys)]  # fmt: skip
    rows += [answer_row(100 + i, "Support CSAT", 1 + i % 5, channel="email") for i in range(12)]
    rows += [answer_row(200 + i, "Effort", 1 + i % 7, department="Support") for i in range(9)]
    rows += [answer_row(300 + i, "Stars", 1 + i % 5) for i in range(6)]
    rows.append(answer_row(999, "Relationship NPS", 11))
    batch = fits(out.BatchOut, client.post("/api/responses", json={"responses": rows}, headers=h))
    assert batch.stored == len(rows) - 1 and batch.errors[0].field == "responses[63].score"
    fits(out.BatchOut, client.post("/api/responses", json=answer_row(5, "Stars", 3), headers=h))

    # surveys
    listed = fits(out.SurveyList, client.get("/api/surveys", headers=h))
    assert {s.name for s in listed.items} == {"Relationship NPS", "Support CSAT", "Effort", "Stars"}
    fits(out.SurveyOut, client.get("/api/surveys/Relationship NPS", headers=h))
    changed = fits(out.SurveyOut, client.put(f"/api/surveys/{nps.id}", json={"name":
                   "Relationship NPS", "trigger_event": "purchase", "department": "Shop"},
                   headers=h))  # fmt: skip
    assert changed.department == "Shop"
    more = [{**e, "occurred_at": (NOW + timedelta(seconds=1)).isoformat()} for e in events]
    client.post("/api/events", json={"events": more}, headers=h)
    run = fits(out.RunOut, client.post("/api/surveys/run", headers=h))
    assert run.surveys["Relationship NPS"].counts.invited == 3
    invited = fits(out.InviteOut, client.post(f"/api/surveys/{nps.id}/invite",
                   json={"customers": ["c1@example.com"], "segment": "Buyers", "via": "link"},
                   headers=h))  # fmt: skip
    assert invited.counts.skipped == 3 and invited.survey == "Relationship NPS"

    # reports of every kind and breakdown
    for params in [
        {},
        {"by": "department", "compare": "Support,Sales"},
        {"by": "channel", "period": "month"},
        {"period": "week", "since": (NOW - timedelta(days=20)).date().isoformat()},
        {"by": "segment"},
        {"by": "survey"},
        {"segment": "Buyers", "department": "Support", "until": NOW.date().isoformat()},
        {"kind": "csat", "by": "channel"},
        {"kind": "ces", "by": "department"},
        {"kind": "custom", "by": "department"},
        {"survey": "Stars", "by": "touchpoint"},
    ]:
        report = fits(ReportOut, client.get("/api/nps", params=params, headers=h))
        assert (report.comparison is not None) == ("compare" in params)
    flagged = fits(out.AnswerList, client.get("/api/responses?flagged=true", headers=h))
    assert flagged.items and all(a.flagged for a in flagged.items)

    # themes
    assert fits(out.FitOut, client.post("/api/themes/fit", headers=h)).themes >= 2
    drivers = fits(out.ThemeDrivers, client.get("/api/themes", headers=h))
    first, second = drivers.themes[0].id, drivers.themes[1].id
    renamed = fits(out.ThemeOut, client.patch(f"/api/themes/{first}", json={"name": " Late "},
                   headers=h))  # fmt: skip
    assert renamed.name == "Late"
    merged = fits(out.ThemeOut, client.post(f"/api/themes/{second}/merge", json={"into": first},
                  headers=h))  # fmt: skip
    assert merged.id == first

    # segments
    page = fits(seg.MembersPage, client.get(f"/api/segments/{made.id}/members?limit=2", headers=h))
    assert len(page.items) == 2 and page.segment.name == "Buyers"
    assert fits(seg.SegmentCounted, client.get(f"/api/segments/{made.id}", headers=h)).count == 3
    draft = {"definition": {"field": "stage", "op": "gte", "value": "prospect"}}
    assert fits(seg.Count, client.post("/api/segments/count", json=draft, headers=h)).count >= 3
    kept = fits(seg.SegmentOut, client.put(f"/api/segments/{made.id}", json={"name": "Shoppers",
                "definition": buyers}, headers=h))  # fmt: skip
    assert kept.name == "Shoppers" and kept.description is None
    with engine.begin() as conn:  # a stage the configuration no longer has
        gone = {"field": "stage", "op": "eq", "value": "gone"}
        conn.execute(insert(segments_t).values(name="Old", definition=gone, created_at=NOW,
                                               updated_at=NOW))  # fmt: skip
    listing = client.get("/api/segments", headers=h)
    segments = fits(seg.SegmentList, listing)
    assert [(s.name, s.count) for s in segments.items] == [("Old", None), ("Shoppers", 3)]
    assert segments.items[0].error and "error" not in listing.json()["items"][1]
    exported = client.get(f"/api/segments/{made.id}/export.csv", headers=h)
    assert exported.status_code == 200 and exported.text.startswith("id,name,email")
    used = client.delete(f"/api/segments/{made.id}", headers=h)  # by the recurring surveys
    assert used.status_code == 409 and "Effort" in used.json()["message"], used.text
    old_id = segments.items[0].id
    assert client.delete(f"/api/segments/{old_id}", headers=h).status_code == 204
    assert unchanged == []  # every answer above is what the route returned, field for field


REFUSED: list[tuple[str, str, Any, str, str]] = [
    ("post", "/api/surveys/1/invite", {"customer": "a@example.com", "colour": "red"}, "colour",
     "unknown key; use customer, customers, segment, via"),
    ("post", "/api/surveys/1/invite", {"customers": "a@example.com"}, "customers", "list"),
    ("post", "/api/surveys/1/invite", {"customers": [{"id": 1}]}, "customers.0", "whole number"),
    ("post", "/api/surveys/1/invite", {"customer": 1, "via": "fax"}, "via", "'email' or 'link'"),
    ("patch", "/api/themes/1", {}, "name", "required"),
    ("patch", "/api/themes/1", {"name": 5}, "name", "valid string"),
    ("patch", "/api/themes/1", {"name": "  "}, "name", "at least 1 character"),
    ("post", "/api/themes/1/merge", {"into": True}, "into", "valid integer"),
    ("post", "/api/themes/1/merge", {"into": "2"}, "into", "valid integer"),
    ("post", "/api/themes/1/merge", {"into": 0}, "into", "greater than or equal to 1"),
    ("post", "/api/segments/count", {"definition": {"field": "stage", "op": "eq",
     "value": "lead"}, "colour": 1}, "colour", "unknown key; use definition, name, description"),
    ("post", "/api/segments", {"definition": {"event": {"type": "x"}}}, "name",
     "a name of 1 to 200 characters is required"),
    ("post", "/api/segments", {"name": "x", "description": 3, "definition": {"event": {}}},
     "description", "text of at most 2000 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "sent", "field", "expected"), REFUSED)
def test_bodies_are_checked_with_the_described_models(
    client: TestClient, api_key: str, method: str, path: str, sent: Any, field: str, expected: str
) -> None:
    client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    refused = client.request(method, path, json=sent, headers=auth(api_key))
    assert refused.status_code == 400, refused.text
    errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert expected in errors[field], errors
    assert f"{field}: {errors[field]}" in refused.json()["message"]
