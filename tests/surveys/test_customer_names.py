"""Customers are named on the NPS page's latest answers and in the invitation results: their
name, else their email address, else `Customer N`."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.conftest import T0
from tests.customers.test_pages import sign_in
from tests.surveys.helpers import answer, make_survey
from tests.surveys.invites import HTML


def _three_customers(engine: Engine) -> dict[str, int]:
    """Ann has a name, Bob only an email address, the third only a user id."""
    made = [
        EventIn(message_id="ann", kind="identify", type="identify", occurred_at=T0,
                identities=[("email", "ann@example.com")], traits={"name": "Ann Lee"}),
        EventIn(message_id="bob", kind="track", type="page_view", occurred_at=T0,
                identities=[("email", "bob@example.com"), ("user_id", "u-bob")]),
        EventIn(message_id="anon", kind="track", type="page_view", occurred_at=T0,
                identities=[("user_id", "u-77")]),
    ]  # fmt: skip
    ingest(engine, made)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT value, customer_id FROM identities")).all()
    return {str(value): int(cid) for value, cid in rows}


def _names(page: str, marker: str, css: str) -> list[str]:
    part = page.split(marker, 1)[1]
    return [html.unescape(n) for n in re.findall(rf'<a href="/customers/\d+" class="{css}">([^<]*)</a>', part)]  # fmt: skip


def test_the_nps_pages_latest_answers_name_the_customers(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ids = _three_customers(engine)
    make_survey(engine, settings, T0)
    rows = [{"survey": "Relationship NPS", "score": 9, "why": who, "answered_at":
             (T0 + timedelta(minutes=n)).isoformat(), **ref}
            for n, (who, ref) in enumerate([("ann", {"email": "ann@example.com"}),
                                            ("bob", {"user_id": "u-bob"}),
                                            ("anon", {"user_id": "u-77"})])]  # fmt: skip
    answer(engine, settings, T0, *rows)
    sign_in(client, engine, role="analyst")
    page = client.get("/nps", headers=HTML)
    assert page.status_code == 200
    shown = _names(page.text, 'id="latest-answers"', "who-answered")
    assert shown == [f"Customer {ids['u-77']}", "bob@example.com", "Ann Lee"]  # newest first


def test_the_invitation_results_name_the_customers(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ids = _three_customers(engine)
    survey = make_survey(engine, settings, T0)
    sign_in(client, engine, role="analyst")
    path = f"/surveys/{survey['id']}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token is not None
    shown: dict[str, list[str]] = {}
    for ref in ("ann@example.com", "u-bob", "u-77", "ann@example.com"):  # Ann twice: held back
        form = {"customer": ref, "via": "link", "csrf_token": token.group(1)}
        page = client.post(f"{path}/invite", data=form, headers=HTML)
        assert page.status_code == 200, page.text[:500]
        result = page.text.split('id="invite-result"', 1)[1]
        kind = "skipped" if 'class="plain skipped"' in result else "invited"
        shown.setdefault(kind, []).extend(_names(result, f'class="plain {kind}"', "invitee"))
    assert shown == {"invited": ["Ann Lee", "bob@example.com", f"Customer {ids['u-77']}"],
                     "skipped": ["Ann Lee"]}  # fmt: skip
