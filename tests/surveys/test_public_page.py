"""The public survey page `/s/{token}` without JavaScript, through the HTTP interface: the
score first, then the follow-up question of that score's band, one stored answer, single use,
friendly pages for links that cannot be used, 4xx (never 5xx) on junk, untrusted text escaped."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.surveys import links
from tests.surveys.invites import HTML, XSS, answers, invite, link

URLENCODED = "application/x-www-form-urlencoded"


def test_score_then_the_bands_question_then_one_answer(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    invitation = invite(engine, settings)
    url = link(client, invitation)

    first = client.get(url, headers=HTML)
    assert first.status_code == 200
    assert "set-cookie" not in first.headers  # no session for customers
    assert first.headers["cache-control"] == "no-store"
    body = first.text
    assert '<html lang="en">' in body and 'name="viewport"' in body
    assert "<fieldset" in body and "<legend>" in body
    assert "How likely are you to recommend our company" in body
    assert re.findall(r'type="radio" name="score" value="(\d+)"', body) == [
        str(s) for s in range(11)
    ]
    assert "Not at all likely" in body and "Extremely likely" in body
    assert "https://" not in body and "http://cdn" not in body  # no external assets
    with engine.connect() as conn:
        opened = conn.execute(text("SELECT opened_at, answered_at FROM survey_invitations")).one()
    assert opened.opened_at is not None and opened.answered_at is None

    second = client.post(url, data={"score": "8", "step": "score"}, headers=HTML)
    assert second.status_code == 200
    assert "What would make it a 10?" in second.text  # the passive band's question
    assert '<input type="hidden" name="score" value="8">' in second.text
    assert answers(engine) == []  # nothing is stored until the end

    done = client.post(url, data={"score": "8", "step": "why", "why": "  Faster delivery.  "},
                       headers=HTML)  # fmt: skip
    assert done.status_code == 200 and "Thank you" in done.text
    assert [tuple(a) for a in answers(engine)] == [
        (8, "passive", "Faster delivery.", "web", invitation, f"invitation-{invitation}",
         "support")
    ]  # fmt: skip
    with engine.connect() as conn:
        types = sorted(conn.execute(text("SELECT type FROM events WHERE type <> 'page_view'"))
                       .scalars())  # fmt: skip
        answered = conn.execute(text("SELECT answered_at FROM survey_invitations")).scalar()
    assert types == ["passive", "survey_response"] and answered is not None

    for again in (client.get(url, headers=HTML),
                  client.post(url, data={"score": "2", "step": "why", "why": "x"}, headers=HTML)):  # fmt: skip
        assert again.status_code == 410
        assert "already been used" in again.text and "we have your answer" in again.text
    assert len(answers(engine)) == 1


@pytest.mark.parametrize(("kind", "score", "question"), [
    ("nps", "0", "What could we do better?"), ("nps", "10", "What did we do well?"),
    ("csat", "3", "What would have made it better?"), ("ces", "2", "What made it hard?"),
])  # fmt: skip
def test_each_band_asks_its_own_question(
    client: TestClient, engine: Engine, settings: Settings, kind: str, score: str, question: str
) -> None:
    url = link(client, invite(engine, settings, kind=kind))
    page = client.post(url, data={"score": score, "step": "score"}, headers=HTML)
    assert page.status_code == 200 and question in page.text


def test_skip_records_the_score_alone(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    url = link(client, invite(engine, settings))
    done = client.post(url, data={"score": "10", "step": "skip", "why": "ignored"}, headers=HTML)
    assert done.status_code == 200 and "Thank you" in done.text
    assert [(a.score, a.band, a.why) for a in answers(engine)] == [(10, "promoter", None)]


@pytest.mark.parametrize("score", ["11", "-1", "abc", "", "3.5", "1e1", "٣", "0" * 50])
def test_a_score_off_the_scale_is_explained_on_the_page(
    client: TestClient, engine: Engine, settings: Settings, score: str
) -> None:
    url = link(client, invite(engine, settings))
    for step in ("score", "why"):
        page = client.post(url, data={"score": score, "step": step, "why": "x"}, headers=HTML)
        assert page.status_code == 400
        assert "Please pick a score from 0 to 10." in page.text and 'role="alert"' in page.text
    assert answers(engine) == []


def test_a_csat_score_must_be_1_to_5(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    url = link(client, invite(engine, settings, kind="csat"))
    page = client.post(url, data={"score": "0", "step": "why"}, headers=HTML)
    assert page.status_code == 400 and "from 1 to 5" in page.text
    assert client.post(url, data={"score": "5", "step": "why"}, headers=HTML).status_code == 200


def test_a_why_too_long_is_kept_and_explained(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    url = link(client, invite(engine, settings))
    page = client.post(url, data={"score": "4", "step": "why", "why": XSS + "x" * 5000},
                       headers=HTML)  # fmt: skip
    assert page.status_code == 400 and "under 5,000 characters" in page.text
    assert "&lt;script&gt;window.hacked" in page.text and "<script>window" not in page.text
    assert answers(engine) == []


def old_token(secret: str, invitation_id: int, days: int) -> str:
    """A genuine token signed `days` ago."""

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days * 86400

    return URLSafeTimedSerializer(secret, salt=links.SALT, signer=Past).dumps(invitation_id)


def test_links_that_cannot_be_used_get_a_friendly_page(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    secret: str = client.app.state.secret  # type: ignore[attr-defined]
    invitation = invite(engine, settings)
    stale = invite(engine, settings, "old@example.com",
                   sent=datetime.now(UTC) - timedelta(days=settings.surveys.link_days + 1))  # fmt: skip
    good = links.token_for(secret, invitation)
    cases = {
        "forged": [good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
                   links.token_for("another secret of at least 32 chars!!", invitation),
                   links.token_for(secret, 987654),  # signed, but no such invitation
                   URLSafeTimedSerializer(secret, salt=links.SALT).dumps("1"),
                   URLSafeTimedSerializer(secret, salt="other").dumps(invitation),
                   "junk", "x" * 5000, "%F0%9F%98%80", "a.b.c"],
        "expired": [old_token(secret, invitation, settings.surveys.link_days + 1),
                    links.token_for(secret, stale)],  # a fresh signature, a stale invitation
    }  # fmt: skip
    for problem, tokens in cases.items():
        for token in tokens:
            for answer in (client.get(f"/s/{token}", headers=HTML),
                           client.post(f"/s/{token}", data={"score": "9", "step": "why"},
                                       headers=HTML)):  # fmt: skip
                expected = 404 if problem == "forged" else 410
                assert answer.status_code in (expected, 404), (token, answer.status_code)
                words = "not valid" if answer.status_code == 404 else "has expired"
                assert words in answer.text and "Traceback" not in answer.text, token
    assert answers(engine) == []
    assert client.get(f"/s/{good}", headers=HTML).status_code == 200  # still fine


def test_junk_posts_get_4xx(client: TestClient, engine: Engine, settings: Settings) -> None:
    url = link(client, invite(engine, settings))
    junk: list[dict[str, Any]] = [
        {"content": b"\x00\xff" * 100, "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {"content": b"--x\r\nnope", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        {"content": b'{"score": 9}', "headers": {"content-type": "application/json"}},
        {"data": {"score": ["1", "2"], "step": ["why", "score"]}},
        {"files": {"score": ("s.txt", b"9")}, "data": {"step": "why"}},
        {"data": {"score": "9", "step": "somewhere", "why": "é" * 10}},
    ]  # fmt: skip
    for request in junk:
        headers = {**HTML, **request.pop("headers", {})}
        answer = client.post(url, **request, headers=headers)
        assert 200 <= answer.status_code < 500, (request, answer.status_code, answer.text[:200])
        assert "Traceback" not in answer.text
    huge = client.post(
        url, content=b"why=" + b"x" * 200_000, headers={**HTML, "content-type": URLENCODED}
    )
    assert huge.status_code == 413 and "Traceback" not in huge.text
    assert answers(engine) == []
