"""The home page `/`: the dashboard for those who may read it, the customers for agents, the
sign-in form for no one; its tiles show the API's figures and link to their pages."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from tests.auth.helpers import login, person, sign_in
from tests.dashboard.helpers import NOW, build

HTML = {"accept": "text/html"}


def test_home_is_the_dashboard(client: TestClient, engine: Engine, settings: Settings) -> None:
    client.app.state.clock = lambda: NOW  # type: ignore[attr-defined]
    ids = build(engine, settings)
    person(engine, "analyst@example.com", role="analyst")
    sign_in(client, "analyst@example.com")
    answer = client.get("/", headers=HTML)
    assert answer.status_code == 200, answer.text
    page = answer.text
    figures = client.get("/api/dashboard").json()
    assert re.search(r'id="at-risk-count">4<', page) and re.search(r'id="at-risk-value">220<', page)
    assert re.search(r'id="nps-value">\+17<', page) and re.search(r'id="cases-open">3<', page)
    assert re.search(r'id="sla-met">33%<', page) and re.search(r'id="ask-rate">33%<', page)
    assert "365 days" in page  # what the value at risk counts
    links = [html.unescape(h) for h in re.findall(r'class="tile-link"[^>]*href="([^"]+)"', page)]
    tiles = figures["nps"], figures["journey"], figures["at_risk"], figures["cases"]
    assert links == [t["link"] for t in tiles] + [
        figures["cases"]["sla_link"], figures["advocacy"]["link"], figures["movers"]["link"],
        figures["detractor_whys"]["link"]]  # fmt: skip
    assert f'href="/customers/{ids["dan"]}"' in page  # a mover, one click away
    assert "Ann &lt;b&gt;Example&lt;/b&gt;" in page and "Ann <b>" not in page  # shown, not markup
    assert re.search(r'<a href="/" aria-current="page">Home</a>', page)
    customers = client.get("/customers", headers=HTML).text
    assert re.search(r'<a href="/" >Home</a>', customers)  # in the nav, not current


def test_who_sees_what_at_home(client: TestClient, engine: Engine) -> None:
    first = client.get("/", headers=HTML, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/"
    person(engine, "agent@example.com", role="agent")
    signed = login(client, "agent@example.com")  # signing in lands at home, then ...
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    agent = client.get("/", headers=HTML, follow_redirects=False)
    assert agent.status_code == 303 and agent.headers["location"] == "/customers"  # ... theirs
    customers = client.get("/customers", headers=HTML).text
    assert ">Home</a>" not in customers and ">Customers</a>" in customers
