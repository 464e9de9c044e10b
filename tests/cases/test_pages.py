"""The inbox, the case page (with the customer beside it), the Teams page, the customer page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.cases import service
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from tests.auth.helpers import Clock, app_with, person, sign_in
from tests.cases.helpers import PASSWORD, WED, world

HTML = {"accept": "text/html"}


def test_an_agent_works_a_case_from_the_inbox(engine: Engine, settings: Settings) -> None:
    w = world(engine, settings)
    made, _ = run_write(engine, lambda conn: service.create(
        conn, settings, customer_id=w.customer_id, reason="Late delivery", source_key="p1",
        source_event=w.detractor, team="Support", now=WED))  # fmt: skip
    clock = Clock(WED + timedelta(hours=1))
    with app_with(settings, clock) as app, TestClient(app) as client:
        token = sign_in(client, "agent0@example.com", PASSWORD)
        inbox = html.unescape(client.get("/cases", headers=HTML).text)
        assert f'data-case="{made["id"]}"' in inbox and "Late delivery" in inbox
        assert "4 h 00 min left" in inbox  # due 15:30 UTC, now 11:30
        assert 'href="/cases"' in inbox and 'href="/admin/teams"' not in inbox
        assert 'id="tab-all"' not in inbox  # all cases: for admins
        assert client.get("/cases?tab=all", headers=HTML).status_code == 400
        other = client.get("/cases?tab=team", headers=HTML).text
        assert f'data-case="{made["id"]}"' in other
        page = html.unescape(client.get(f"/cases/{made['id']}", headers=HTML).text)
        assert 'id="context-pulse"' in page and "detractor" in page
        assert 'id="reply-form"' in page and 'id="resolve-form"' in page
        replied = client.post(f"/cases/{made['id']}/reply",
                              data={"body": "Sorry, checking", "csrf_token": token},
                              headers=HTML, follow_redirects=False)  # fmt: skip
        assert replied.status_code == 303
        empty = client.post(f"/cases/{made['id']}/note", data={"body": " ", "csrf_token": token},
                            headers=HTML)  # fmt: skip
        assert empty.status_code == 400 and "body:" in html.unescape(empty.text)
        forged = client.post(f"/cases/{made['id']}/resolve", data={"csrf_token": "no"},
                             headers=HTML, follow_redirects=False)  # fmt: skip
        assert forged.status_code == 403
        done = client.post(f"/cases/{made['id']}/resolve",
                           data={"message": "A new one is on its way", "csrf_token": token},
                           headers=HTML, follow_redirects=False)  # fmt: skip
        assert done.status_code == 303
        after = html.unescape(client.get(f"/cases/{made['id']}", headers=HTML).text)
        assert re.search(r'id="case-status">resolved<', after)
        assert "A new one is on its way" in after and 'id="resolve-form"' not in after
        customer = html.unescape(client.get(f"/customers/{w.customer_id}", headers=HTML).text)
        assert 'id="customer-cases"' in customer and 'id="open-case"' in customer
        opened = client.post("/cases", data={"customer_id": str(w.customer_id),
                                             "reason": "Follow-up call", "csrf_token": token},
                             headers=HTML, follow_redirects=False)  # fmt: skip
        assert opened.status_code == 303 and opened.headers["location"].startswith("/cases/")


def test_admins_manage_teams_on_their_page(engine: Engine, settings: Settings) -> None:
    world(engine, settings)
    person(engine, "boss@example.com", role="admin")
    with app_with(settings, Clock(WED)) as app, TestClient(app) as client:
        token = sign_in(client, "boss@example.com")
        assert 'id="tab-all"' in client.get("/cases?tab=all", headers=HTML).text
        page = client.get("/admin/teams", headers=HTML).text
        assert 'data-team="Support"' in page and "mon-fri 09:00-12:00 13:00-17:00" in page
        made = client.post("/admin/teams", data={"name": "Social", "zone": "Europe/Paris",
                                                 "hours": "sat-sun 10:00-14:00",
                                                 "csrf_token": token},
                           headers=HTML, follow_redirects=False)  # fmt: skip
        assert made.status_code == 303
        bad = client.post("/admin/teams", data={"name": "Bad", "hours": "mon 17:00-09:00",
                                                "csrf_token": token}, headers=HTML)  # fmt: skip
        assert bad.status_code == 400 and "ends before it starts" in html.unescape(bad.text)
        assert "sat-sun 10:00-14:00" in client.get("/admin/teams", headers=HTML).text
