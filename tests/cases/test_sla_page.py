"""The SLA report page `/cases/sla`: the report's rows and totals for the cases opened since a
day, per team or per agent; bad filters answer 400 naming the field."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from tests.auth.helpers import person, sign_in
from tests.dashboard.helpers import NOW, build

HTML = {"accept": "text/html"}


def test_the_sla_report_page(client: TestClient, engine: Engine, settings: Settings) -> None:
    client.app.state.clock = lambda: NOW  # type: ignore[attr-defined]
    build(engine, settings)  # its cases: see tests/dashboard/test_api.py::test_cases_and_the_sla
    person(engine, "agent@example.com", role="agent")  # cases:read is everyone's
    sign_in(client, "agent@example.com")
    page = client.get("/cases/sla?since=2025-12-21", headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert re.search(r'id="sla-share">33\.3%<', text)
    assert re.search(r'id="sla-met">2<', text) and re.search(r'id="sla-missed">4<', text)
    rows = re.findall(r"<tr><td>no team</td>", text)
    assert len(rows) == 2  # normal priority, no channel: first response and resolution
    everything = client.get("/cases/sla", headers=HTML).text  # bob's December case counts too
    assert re.search(r'id="sla-met">4<', everything)
    per_agent = client.get("/cases/sla?by=owner", headers=HTML).text
    assert "<th>Agent</th>" in per_agent and "unassigned" in per_agent


def test_bad_filters_name_the_field(client: TestClient, engine: Engine) -> None:
    person(engine, "agent@example.com", role="agent")
    sign_in(client, "agent@example.com")
    for query, field in (("since=last+week", "since"), ("by=colour", "by"),
                         ("since=1969-12-31", "since")):  # fmt: skip
        answer = client.get(f"/cases/sla?{query}", headers=HTML)
        assert answer.status_code == 400, (query, answer.text)
        assert f"<strong>{field}</strong>" in html.unescape(answer.text)
    assert client.get("/cases/sla?since=" + "9" * 21, headers=HTML).status_code == 422
