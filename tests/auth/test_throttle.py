"""Throttling: failed sign-ins per account and per address (in the database, on frozen clocks),
and the in-process rate limits of the tracking API and the public survey pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.audit import service as audit
from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.web import limits
from hxpulse.web.limits import TokenBucket
from tests.auth.helpers import Clock, app_with, login, person

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
LOCKED = "Too many failed sign-ins for this account; try again in"


def test_an_account_is_locked_after_ten_failures_then_opens(
    settings: Settings, engine: Engine
) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        for n in range(10):
            clock.advance(seconds=30)
            assert login(client, "ann@example.com", f"guess {n}").status_code == 400
        locked = login(client, "ann@example.com")  # the right password, too late
        # the lock ends when the first of the ten leaves the window: 15 min after it, 630 s on
        assert locked.status_code == 429 and locked.headers["retry-after"] == "630"
        assert f"{LOCKED} 11 minutes." in locked.text
        clock.advance(minutes=9, seconds=31)
        almost = login(client, "ann@example.com")
        assert almost.status_code == 429 and f"{LOCKED} 1 minute." in almost.text
        assert almost.headers["retry-after"] == "59"
        clock.advance(seconds=59)  # the first failure has left the 15-minute window
        assert login(client, "ann@example.com").status_code == 303
    with engine.connect() as conn:
        [locked_entry] = audit.entries(conn, action="signin.locked")
    assert locked_entry["subject_id"] == "ann@example.com"


def test_the_lock_holds_across_processes(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        for n in range(10):
            login(client, "ann@example.com", f"guess {n}")
    with app_with(settings, clock) as other, TestClient(other) as client:  # a restart
        assert login(client, "ann@example.com").status_code == 429


def test_refused_attempts_do_not_extend_the_lock(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        for n in range(10):
            login(client, "ann@example.com", f"guess {n}")
        for _ in range(5):  # an attacker keeps trying during the lock
            clock.advance(minutes=2)
            assert login(client, "ann@example.com", "more").status_code == 429
        clock.advance(minutes=5)
        assert login(client, "ann@example.com").status_code == 303


def test_unknown_accounts_are_throttled_the_same(settings: Settings, engine: Engine) -> None:
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        answers = [login(client, "nobody@example.com", "x").status_code for _ in range(11)]
    assert answers == [400] * 10 + [429]  # nothing tells a real account from another


def test_a_success_clears_the_account_failures(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        for n in range(9):
            login(client, "ann@example.com", f"typo {n}")
        assert login(client, "ann@example.com").status_code == 303
        client.cookies.clear()
        answers = [login(client, "ann@example.com", "typo").status_code for _ in range(10)]
    assert answers == [400] * 10


def test_an_address_is_throttled_across_accounts(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with (
        app_with(settings, clock, signin_address_failures=6) as app,
        TestClient(app) as client,
    ):
        for n in range(6):
            assert login(client, f"user{n}@example.com", "spray").status_code == 400
        refused = login(client, "ann@example.com")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
        assert "Too many failed sign-ins from your address; try again in 15 minutes." in (
            refused.text
        )


def test_token_buckets_refill_at_their_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)  # one token back in half a second
    assert bucket.take("b") == 0.0  # each name has its own bucket
    now[0] = 0.5
    assert bucket.take("a") == 0.0 and bucket.take("a") == pytest.approx(0.5)
    now[0] = 100.0
    assert [bucket.take("a") for _ in range(3)] == [0.0] * 3  # refilled up to the burst only
    assert bucket.take("a") > 0
    assert TokenBucket(rate=0, burst=1).take("a") == 0.0  # a rate of 0: no limit


def test_buckets_forget_idle_names_beyond_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TRACKED", 3)
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    bucket.take("busy")
    bucket.take("busy")
    now[0] = 0.1
    for name in ("idle 1", "idle 2"):
        bucket.take(name)
    now[0] = 5.0  # the idle buckets are full again: they are the ones forgotten
    bucket.take("new")
    assert set(bucket._buckets) <= {"busy", "new", "idle 1", "idle 2"}
    assert len(bucket._buckets) <= 3 and "new" in bucket._buckets


def test_tracking_is_rate_limited_per_key(settings: Settings, engine: Engine) -> None:
    with engine.begin() as conn:
        key = auth.create_key(conn, name="shop", scopes=["track"])[1]
    with (
        app_with(settings, track_requests_per_second=1.0, track_burst=2) as app,
        TestClient(app) as client,
    ):
        now = [0.0]
        app.state.track_limit.clock = lambda: now[0]
        body = {"userId": "u1", "event": "Order Completed"}
        answers = [client.post("/v1/track", json=body, auth=(key, "")) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["retry-after"] == "1"
        assert "Too many requests" in answers[2].json()["message"]
        assert client.options("/v1/track").status_code != 429  # preflights are not counted
        now[0] = 1.0
        assert client.post("/v1/track", json=body, auth=(key, "")).status_code == 200


def test_the_default_limits_leave_sdk_traffic_alone() -> None:
    defaults = Settings()
    # bench/ingest.py posts 500 batches from 4 threads at over 100 a second: far below these
    assert defaults.track_requests_per_second >= 1000 and defaults.track_burst >= 2000


def test_public_survey_answers_are_rate_limited(settings: Settings, engine: Engine) -> None:
    with (
        app_with(settings, survey_posts_per_minute=2) as app,
        TestClient(app) as client,
    ):
        posts = [client.post("/s/not-a-token", data={"score": "9"}) for _ in range(3)]
        assert [p.status_code for p in posts] == [404, 404, 429]
        # one answer's refill (60 s / 2), less the time the first two took on a busy machine
        assert 20 <= int(posts[2].headers["retry-after"]) <= 30
        assert "Too many answers from your network" in posts[2].text
        assert client.get("/s/not-a-token").status_code == 404  # reading the page is not limited
