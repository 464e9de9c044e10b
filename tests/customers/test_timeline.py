"""The customer page's timeline a page at a time (keyset: older and newer than an event, ties
on the moment broken by id) and its survey answers with their why; through the page and
`GET /api/customers/{ref}`, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.customers.test_pages import sign_in
from tests.surveys.helpers import answer, make_survey

NOW = datetime.now(UTC).replace(microsecond=0)
TOUCHPOINTS = 130


@pytest.fixture
def customer(engine: Engine) -> int:
    """A customer with 130 page views, every second one at the same moment as the one before
    (so the order rests on the id too), and another customer with one."""
    views = [EventIn(message_id=f"v{n}", kind="page", type="page_view",
                     occurred_at=NOW - timedelta(hours=(n // 2) + 1),
                     identities=[("email", "many@example.com")], name=f"view {n}")
             for n in range(TOUCHPOINTS)]  # fmt: skip
    other = EventIn(message_id="other", kind="page", type="page_view", occurred_at=NOW,
                    identities=[("email", "other@example.com")])  # fmt: skip
    ingest(engine, [*views, other], now=NOW)
    with engine.connect() as conn:
        return queries.find(conn, "many@example.com")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def newest_first(engine: Engine, customer_id: int) -> list[int]:
    with engine.connect() as conn:
        found = queries.profile(conn, customer_id=customer_id, limit=1000)
    events = found["events"]
    assert [(e["occurred_at"], e["id"]) for e in events] == sorted(
        ((e["occurred_at"], e["id"]) for e in events), reverse=True
    )
    return [e["id"] for e in events]


def test_the_api_walks_older_and_back_newer_without_gaps_or_repeats(
    client: TestClient, engine: Engine, api_key: str, customer: int
) -> None:
    everything = newest_first(engine, customer)
    assert len(everything) == TOUCHPOINTS

    def get(**params: Any) -> dict[str, Any]:
        got = client.get(f"/api/customers/id:{customer}", params=params, headers=bearer(api_key))
        assert got.status_code == 200, got.text
        return got.json()  # type: ignore[no-any-return]

    pages = [get(limit=40)]
    while pages[-1]["has_older"]:
        pages.append(get(limit=40, before=pages[-1]["events"][-1]["id"]))
    walked = [e["id"] for p in pages for e in p["events"]]
    assert walked == everything and len(pages) == 4
    assert [p["events_offset"] for p in pages] == [0, 40, 80, 120]
    assert [p["has_newer"] for p in pages] == [False, True, True, True]

    back = [pages[-1]]
    while back[-1]["has_newer"]:
        back.append(get(limit=40, after=back[-1]["events"][0]["id"]))
    # newer pages hold the 40 just newer; the last step back is the newest page itself
    assert [e["id"] for e in back[1]["events"]] == everything[80:120]
    assert back[-1]["events"] == pages[0]["events"] and back[-1]["events_offset"] == 0
    assert get(limit=40, after=everything[5])["events"] == pages[0]["events"]


def test_bad_paging_answers_400_naming_the_parameter(
    client: TestClient, engine: Engine, api_key: str, customer: int
) -> None:
    with engine.connect() as conn:
        stranger = queries.profile(conn, customer_id=queries.find(conn, "other@example.com"))
    theirs = stranger["events"][0]["id"]
    mine = newest_first(engine, customer)[3]
    sign_in(client, engine)
    page = f"/customers/{customer}"
    cases = [
        (page, {"per_page": "49"}, "per_page"),
        (page, {"per_page": "201"}, "per_page"),
        (page, {"per_page": "lots"}, "per_page"),
        (page, {"before": "abc"}, "before"),
        (page, {"before": "0"}, "before"),
        (page, {"after": "9" * 40}, "after"),
        (page, {"before": str(theirs)}, "before"),  # not this customer's touchpoint
        (page, {"before": str(mine), "after": str(mine)}, "after"),
        (f"/api/customers/id:{customer}", {"limit": "0"}, "limit"),
        (f"/api/customers/id:{customer}", {"limit": "1001"}, "limit"),
        (f"/api/customers/id:{customer}", {"after": str(theirs)}, "after"),
    ]
    for path, params, field in cases:
        got = client.get(path, params=params, headers={"accept": "text/html"})
        assert got.status_code == 400, (path, params, got.status_code)
        assert f"{field}: " in html.unescape(got.text), (path, params)
    assert client.get(page, params={"per_page": "50", "before": str(mine)}).status_code == 200


def test_the_page_shows_a_range_and_newer_and_older_links(
    client: TestClient, engine: Engine, customer: int
) -> None:
    everything = newest_first(engine, customer)
    sign_in(client, engine)
    first = client.get(f"/customers/{customer}")
    assert first.status_code == 200
    assert shown(first.text) == everything[:100]
    assert f"Touchpoints 1–100 of {TOUCHPOINTS}, newest first." in first.text
    assert 'id="newer"' not in first.text
    older = href(first.text, "older")
    assert older == f"?before={everything[99]}"

    second = client.get(f"/customers/{customer}{older}")
    assert shown(second.text) == everything[100:]
    assert f"Touchpoints 101–{TOUCHPOINTS} of {TOUCHPOINTS}" in second.text
    assert 'id="older"' not in second.text and href(second.text, "newest") == "?"

    small = client.get(f"/customers/{customer}", params={"per_page": 50})
    assert shown(small.text) == everything[:50]
    middle = client.get(f"/customers/{customer}{href(small.text, 'older')}")
    assert shown(middle.text) == everything[50:100]
    assert href(middle.text, "older") == f"?per_page=50&before={everything[99]}"
    back = client.get(f"/customers/{customer}{href(middle.text, 'newer')}")
    assert shown(back.text) == everything[:50]  # the size is kept both ways


def shown(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="event [^"]*" data-event="(\d+)"', text)]


def href(text: str, link_id: str) -> str:
    found = re.search(rf'id="{link_id}" href="([^"]*)"', text)
    assert found is not None, link_id
    return html.unescape(found.group(1))


def test_survey_answers_show_their_why_score_and_band(
    client: TestClient, engine: Engine, settings: Settings, api_key: str
) -> None:
    make_survey(engine, settings, NOW, kind="nps")
    ingest(engine, [EventIn(message_id="s1", kind="identify", type="identify",
                            occurred_at=NOW - timedelta(days=9),
                            identities=[("user_id", "sam")], traits={"name": "Sam"})],
           now=NOW)  # fmt: skip

    def nps(score: int, days: float, why: str | None, **who: str) -> dict[str, Any]:
        return {"survey": "Relationship NPS", "score": score, "why": why, "channel": "email",
                "answered_at": (NOW - timedelta(days=days)).isoformat(), **who}  # fmt: skip

    answer(engine, settings, NOW,
           nps(2, 3, "The parcel came <b>late</b> and broken", user_id="sam"),
           nps(10, 1, "Fixed fast, thank you", user_id="sam"),
           nps(8, 2, None, user_id="sam"),
           nps(9, 4, "Love the app", email="sam.old@example.com"),
           nps(0, 1, "Someone else's complaint", email="else@example.com"))  # fmt: skip
    # sam.old@ is Sam: the answer of the merged profile shows on Sam's page
    ingest(engine, [EventIn(message_id="s2", kind="identify", type="identify",
                            occurred_at=NOW - timedelta(hours=1),
                            identities=[("user_id", "sam"), ("email", "sam.old@example.com")])],
           now=NOW)  # fmt: skip
    with engine.connect() as conn:
        sam = queries.find(conn, "user_id:sam")

    profile = client.get("/api/customers/user_id:sam", headers=bearer(api_key)).json()
    got = [(a["score"], a["band"], a["why"]) for a in profile["answers"]]
    assert got == [(10, "promoter", "Fixed fast, thank you"), (8, "passive", None),
                   (2, "detractor", "The parcel came <b>late</b> and broken"),
                   (9, "promoter", "Love the app")]  # fmt: skip
    assert profile["answer_count"] == 4
    assert {a["survey"] for a in profile["answers"]} == {"Relationship NPS"}

    sign_in(client, engine)
    page = client.get(f"/customers/{sam}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="answer">(.*?)</tr>', page.text, flags=re.S)
    assert len(rows) == 4
    assert "Fixed fast, thank you" in rows[0] and "promoter" in rows[0]
    assert "no reason given" in rows[1] and "passive" in rows[1]
    assert "The parcel came &lt;b&gt;late&lt;/b&gt; and broken" in rows[2]
    assert 'data-label="Score">2 <span class="answer-band band-detractor">' in rows[2]
    assert "Someone else" not in page.text
