"""Sessions live on the server: signing out, signing out everywhere, disabling a person and
changing or resetting a password end them at once; idle and absolute lifetimes; the cookie
carries only the session token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.audit import service as audit
from hxpulse.auth import sessions
from hxpulse.config import Settings
from tests.auth.helpers import PASSWORD, Clock, app_with, csrf_token, login, person, sign_in

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
COOKIE = "hxpulse_session"


def signed_out(client: TestClient) -> bool:
    """Whether the client is treated as no one, by the API (401) and by a page (sign-in form)."""
    api = client.get("/api/account")
    page = client.get("/customers", headers={"accept": "text/html"}, follow_redirects=False)
    return api.status_code == 401 and page.headers.get("location") == "/login?next=/customers"


def test_an_old_cookie_is_refused_after_signing_out(client: TestClient, engine: Engine) -> None:
    person(engine, "ann@example.com")
    before = csrf_token(client)
    token = sign_in(client, "ann@example.com")
    assert token != before  # a new session, a new CSRF token (no fixation)
    old = client.cookies[COOKIE]
    assert client.get("/api/account").status_code == 200
    answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    client.cookies.clear()
    client.cookies.set(COOKIE, old)  # the cookie an attacker kept
    assert signed_out(client)
    with engine.connect() as conn:
        logged = [e["action"] for e in audit.entries(conn, subject_kind="user")]
    assert logged[:2] == ["session.revoke", "session.create"]


def test_the_cookie_carries_only_the_session_token(client: TestClient, engine: Engine) -> None:
    person(engine, "ann@example.com")
    sign_in(client, "ann@example.com")
    payload = client.cookies[COOKIE].split(".")[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert list(data) == ["sid"]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id FROM user_sessions")).scalars().all()
    assert stored == [sessions.digest(data["sid"])]  # the table keeps only the token's hash


def test_sign_out_everywhere_ends_every_session(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(engine, "ann@example.com")
    token = sign_in(client, "ann@example.com")
    with TestClient(client.app) as laptop:
        sign_in(laptop, "ann@example.com")
        listed = client.get("/api/account").json()["sessions"]
        assert len(listed) == 2 and [s["current"] for s in listed].count(True) == 1
        answer = client.post("/account/sign-out-everywhere", data={"csrf_token": token},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        assert signed_out(client) and signed_out(laptop)
    with engine.connect() as conn:
        [entry] = audit.entries(conn, action="session.revoke_all")
    assert entry["detail"] == {"sessions_ended": 2} and entry["actor_label"].startswith("user ")


def test_disabling_a_person_ends_their_sessions(client: TestClient, engine: Engine) -> None:
    agent_id = person(engine, "agent@example.com")
    person(engine, "boss@example.com", role="admin")
    with TestClient(client.app) as agent:
        sign_in(agent, "agent@example.com")
        token = sign_in(client, "boss@example.com")
        disabled = client.patch(f"/api/users/{agent_id}", json={"active": False},
                                headers={"x-csrf-token": token})  # fmt: skip
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        assert signed_out(agent)
        assert login(agent, "agent@example.com").status_code == 400  # and cannot sign in
        client.patch(f"/api/users/{agent_id}", json={"active": True},
                     headers={"x-csrf-token": token})  # fmt: skip
        assert login(agent, "agent@example.com").status_code == 303


def test_changing_your_password_ends_your_other_sessions(
    client: TestClient, engine: Engine
) -> None:
    person(engine, "ann@example.com")
    token = sign_in(client, "ann@example.com")
    with TestClient(client.app) as phone:
        sign_in(phone, "ann@example.com")
        wrong = client.post("/account/password", data={"csrf_token": token, "current": "nope",
                                                       "password": "a new secret", "confirm":
                                                       "a new secret"})  # fmt: skip
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        assert not signed_out(phone)
        changed = client.post("/account/password", data={
            "csrf_token": token, "current": PASSWORD, "password": "a new secret",
            "confirm": "a new secret"})  # fmt: skip
        assert changed.status_code == 200 and "your other sessions ended" in changed.text
        assert signed_out(phone)
        assert client.get("/api/account").status_code == 200  # this browser got a new session
        assert login(phone, "ann@example.com").status_code == 400
        assert login(phone, "ann@example.com", "a new secret").status_code == 303


def test_a_reset_password_ends_the_sessions(client: TestClient, engine: Engine) -> None:
    agent_id = person(engine, "agent@example.com")
    person(engine, "boss@example.com", role="admin")
    with TestClient(client.app) as agent:
        sign_in(agent, "agent@example.com")
        token = sign_in(client, "boss@example.com")
        reset = client.post(f"/api/users/{agent_id}/password", json={},
                            headers={"x-csrf-token": token})  # fmt: skip
        assert reset.status_code == 200
        assert signed_out(agent)
        assert login(agent, "agent@example.com", reset.json()["password"]).status_code == 303


def test_idle_and_absolute_lifetimes(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with (
        app_with(settings, clock, session_idle_minutes=30, session_days=1) as app,
        TestClient(app) as client,
    ):
        sign_in(client, "ann@example.com")
        clock.advance(minutes=29)
        assert client.get("/api/account").status_code == 200  # used: idle counts from now
        clock.advance(minutes=29)
        assert client.get("/api/account").status_code == 200
        clock.advance(minutes=31)
        assert signed_out(client)  # 31 minutes unused
        sign_in(client, "ann@example.com")
        for _ in range(24 * 3 - 1):  # used every 20 minutes, for just under a day
            clock.advance(minutes=20)
            assert client.get("/api/account").status_code == 200
        clock.advance(minutes=20)
        assert signed_out(client)  # a day after sign-in, however busy


def test_last_seen_is_written_at_most_once_a_minute(settings: Settings, engine: Engine) -> None:
    person(engine, "ann@example.com")
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        sign_in(client, "ann@example.com")

        def last_seen() -> datetime:
            with engine.connect() as conn:
                found = conn.execute(text("SELECT last_seen_at FROM user_sessions")).scalar_one()
            return found if isinstance(found, datetime) else datetime.fromisoformat(found)

        first = last_seen()
        clock.advance(seconds=50)
        client.get("/api/account")
        assert last_seen() == first
        clock.advance(seconds=15)
        client.get("/api/account")
        assert last_seen().replace(tzinfo=UTC) == clock.now
