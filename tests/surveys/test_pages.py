"""The signed-in survey pages through the HTTP interface: junk gets 4xx, a why is shown as text
on the NPS page, and its latest answers follow the page's filters."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.surveys import report
from tests.conftest import T0
from tests.customers.test_pages import sign_in
from tests.surveys.helpers import answer, make_survey
from tests.surveys.invites import HTML, XSS, answers, invite, link


def test_the_why_is_shown_as_text_on_the_nps_page(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    url = link(client, invite(engine, settings))
    client.post(url, data={"score": "2", "step": "why", "why": XSS}, headers=HTML)
    assert [a.why for a in answers(engine)] == [XSS]
    sign_in(client, engine, role="analyst")
    page = client.get("/nps", headers=HTML)
    assert page.status_code == 200
    assert "&lt;script&gt;window.hacked = 1&lt;/script&gt;&lt;img src=x onerror=" in page.text
    assert "<script>window" not in page.text and "<img src=x" not in page.text
    assert 'id="overall-n">1<' in page.text and "too few answers to read" in page.text


def test_signed_in_pages_answer_junk_with_4xx(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    sign_in(client, engine, role="analyst")
    for path in ("/nps?since=yesterday", "/nps?kind=sat", "/nps?survey=abc", "/nps?survey=999",
                 "/nps?segment=7", "/nps?period=year", "/nps?by=colour", "/nps?channel=fax",
                 "/nps?since=2026-02-02&until=2026-01-01", "/nps?department=" + "d" * 200,
                 "/surveys/999", "/surveys/abc"):  # fmt: skip
        answer = client.get(path, headers=HTML)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    for path in ("/surveys/new", "/nps/themes/fit", "/nps/themes/1/rename", "/surveys/1/invite"):
        refused = client.post(path, data={"name": "x"}, headers=HTML)  # no CSRF token
        assert refused.status_code == 403, path


def _answers_with_whys(engine: Engine, settings: Settings) -> dict[str, int]:
    """Answers around the UTC days 2026-01-01 and 2026-01-02, whys named for what tells them
    apart; returns the ids of the two NPS surveys by name."""
    relationship = make_survey(engine, settings, T0)
    store = make_survey(engine, settings, T0, name="Store NPS")
    make_survey(engine, settings, T0, name="Store CSAT", kind="csat")
    rows = [  # why, survey, answered at (UTC), department, channel, touchpoint
        ("before", "Relationship NPS", "2025-12-31T23:59:59", "support", "web", "checkout"),
        ("first", "Relationship NPS", "2026-01-01T00:00:00", "support", "app", "checkout"),
        ("last", "Relationship NPS", "2026-01-02T23:59:59", "sales", "web", "delivery"),
        ("after", "Relationship NPS", "2026-01-03T00:00:00", "sales", "web", "checkout"),
        ("store", "Store NPS", "2026-01-01T12:00:00", "support", "web", "checkout"),
        ("csat", "Store CSAT", "2026-01-01T12:00:00", "support", "web", "checkout"),
        (None, "Relationship NPS", "2026-01-01T12:00:00", "support", "web", "checkout"),
    ]
    answer(engine, settings, T0 + timedelta(days=5), *[
        {"survey": survey, "score": 3 if survey.endswith("CSAT") else 7, "why": why,
         "answered_at": f"{at}+00:00", "department": department, "channel": channel,
         "touchpoint": touchpoint, "email": f"a{i}@example.com"}
        for i, (why, survey, at, department, channel, touchpoint) in enumerate(rows)
    ])  # fmt: skip
    return {"Relationship NPS": relationship["id"], "Store NPS": store["id"]}


def test_latest_answers_follow_the_filters(engine: Engine, settings: Settings) -> None:
    surveys = _answers_with_whys(engine, settings)

    def whys(**filters: Any) -> list[str]:
        with engine.connect() as conn:
            return [a["why"] for a in report.latest_answers(conn, **filters)]

    assert whys() == ["after", "last", "csat", "store", "first", "before"]  # newest first
    assert whys(kind="nps") == ["after", "last", "store", "first", "before"]
    jan = {"since": date(2026, 1, 1), "until": date(2026, 1, 2)}  # both days included
    assert whys(kind="nps", **jan) == ["last", "store", "first"]
    assert whys(since=date(2026, 1, 3)) == ["after"]
    assert whys(until=date(2025, 12, 31)) == ["before"]
    assert whys(survey_id=surveys["Store NPS"]) == ["store"]
    assert whys(survey_id=surveys["Relationship NPS"], **jan) == ["last", "first"]
    assert whys(department="sales") == ["after", "last"]
    assert whys(kind="nps", channel="web", touchpoint="checkout") == ["after", "store", "before"]
    assert whys(department="support", channel="app") == ["first"]
    assert whys(department="nobody") == []


def test_the_nps_pages_latest_answers_follow_its_filters(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    surveys = _answers_with_whys(engine, settings)
    sign_in(client, engine, role="analyst")

    def shown(query: str) -> list[str]:
        page = client.get(f"/nps?{query}", headers=HTML)
        assert page.status_code == 200, page.text[:500]
        latest = page.text.split('id="latest-answers"', 1)[-1].split("</table>", 1)[0]
        return re.findall(r'<td class="why">([^<]*)</td>', latest)

    assert shown("") == ["after", "last", "store", "first", "before"]
    assert shown("since=2026-01-01&until=2026-01-02") == ["last", "store", "first"]
    assert shown(f"survey={surveys['Store NPS']}") == ["store"]
    assert shown("department=sales&touchpoint=delivery") == ["last"]
    assert shown("channel=app") == ["first"]
    assert shown("kind=csat") == ["csat"]
    assert shown("department=nobody") == []
