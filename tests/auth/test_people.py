"""Managing people from the CLI, the admin page and the API; the last active admin stays; every
change is in the audit log, written in the change's own transaction."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM
from hxpulse.auth import users
from hxpulse.cli.main import app as cli
from hxpulse.db.engine import run_write, write
from hxpulse.errors import Conflict
from tests.auth.helpers import login, person, sign_in

runner = CliRunner()


def run(database_url: str, *args: str) -> Any:
    return runner.invoke(cli, ["--db", database_url, *args])


def actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [e["action"] for e in reversed(audit.entries(conn, subject_kind="user"))]


def test_the_users_commands(database_url: str, engine: Engine) -> None:
    made = run(database_url, "users", "create", "ann@example.com", "--role", "analyst",
               "--password", "first password")  # fmt: skip
    assert made.exit_code == 0, made.output
    person(engine, "boss@example.com", role="admin")
    listed = orjson.loads(run(database_url, "users", "list", "--json").stdout)
    assert [(u["email"], u["role"], u["active"]) for u in listed] == [
        ("ann@example.com", "analyst", True), ("boss@example.com", "admin", True)]  # fmt: skip
    table = run(database_url, "users", "list").output
    assert "last sign-in" in table and "ann@example.com" in table
    assert (
        run(database_url, "users", "set-role", "ann@example.com", "--role", "agent").exit_code == 0
    )
    assert run(database_url, "users", "disable", "ANN@example.com").exit_code == 0
    assert "disabled" in run(database_url, "users", "list").output
    assert run(database_url, "users", "enable", str(listed[0]["id"])).exit_code == 0
    reset = run(database_url, "users", "reset-password", "ann@example.com")
    assert reset.exit_code == 0 and len(reset.stdout.strip().splitlines()[-1]) >= 16
    assert run(database_url, "users", "sign-out", "ann@example.com").exit_code == 0
    assert actions(engine) == ["user.create", "user.create", "user.role", "user.disable",
                               "user.enable", "user.password", "session.revoke_all"]  # fmt: skip
    with engine.connect() as conn:
        labels = {e["actor_label"] for e in audit.entries(conn, subject_kind="user")}
    assert "command line" in labels
    missing = run(database_url, "users", "disable", "ghost@example.com")
    assert missing.exit_code == 1 and "no user 'ghost@example.com'" in missing.output
    bad = run(database_url, "users", "set-role", "ann@example.com", "--role", "root")
    assert bad.exit_code == 1 and "unknown role 'root'" in bad.output


def test_the_last_active_admin_stays(database_url: str, client: TestClient, engine: Engine) -> None:
    boss = person(engine, "boss@example.com", role="admin")
    demote = run(database_url, "users", "set-role", "boss@example.com", "--role", "agent")
    assert demote.exit_code == 1 and "last active admin" in demote.output
    assert run(database_url, "users", "disable", "boss@example.com").exit_code == 1
    token = sign_in(client, "boss@example.com")
    answer = client.patch(f"/api/users/{boss}", json={"role": "analyst"},
                          headers={"x-csrf-token": token})  # fmt: skip
    assert answer.status_code == 409 and "make another admin" in answer.json()["message"]
    page = client.post(f"/admin/users/{boss}/disable", data={"csrf_token": token})
    assert page.status_code == 409 and "last active admin" in page.text
    assert actions(engine) == ["user.create", "session.create"]  # refused: nothing recorded
    person(engine, "deputy@example.com", role="admin")
    allowed = client.patch(f"/api/users/{boss}", json={"role": "analyst"},
                           headers={"x-csrf-token": token})  # fmt: skip
    assert allowed.status_code == 200 and allowed.json()["role"] == "analyst"


def test_two_admins_demoting_each_other_at_once_leave_one(engine: Engine) -> None:
    one = person(engine, "one@example.com", role="admin")
    two = person(engine, "two@example.com", role="admin")
    now = datetime.now(UTC)
    outcome: list[str] = []

    def demote_one() -> None:
        try:
            run_write(engine, lambda conn: users.set_role(conn, user_id=one, role="agent",
                                                          who=SYSTEM, now=now))  # fmt: skip
            outcome.append("demoted")
        except Conflict:
            outcome.append("refused")

    with write(engine) as conn:  # the first demotion, not committed yet
        users.set_role(conn, user_id=two, role="agent", who=SYSTEM, now=now)
        other = threading.Thread(target=demote_one)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # it waits for the first to finish
    other.join(timeout=30)
    assert outcome == ["refused"]
    with engine.connect() as conn:
        roles = {u["email"]: u["role"] for u in users.list_users(conn, now=now)}
    assert roles == {"one@example.com": "admin", "two@example.com": "agent"}


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_users_page(client: TestClient, engine: Engine) -> None:
    person(engine, "boss@example.com", role="admin")
    sign_in(client, "boss@example.com")
    token = _token(client.get("/admin/users").text)
    made = client.post("/admin/users", data={"csrf_token": token, "email": "New@Example.com",
                                             "name": "Nia", "role": "analyst"})  # fmt: skip
    assert made.status_code == 201
    assert "Their password, shown this once:" in made.text
    shown = re.search(r'<code id="shown-password">([^<]+)</code>', made.text)
    assert shown is not None
    with TestClient(client.app) as newcomer:
        assert login(newcomer, "new@example.com", shown.group(1)).status_code == 303
        user_id = re.search(r'data-user="(\d+)"[^>]*>\s*<td><strong>new@example.com', made.text)
        assert user_id is not None
        uid = user_id.group(1)
        for path, data in ((f"/admin/users/{uid}/role", {"role": "agent"}),
                           (f"/admin/users/{uid}/disable", {})):  # fmt: skip
            answer = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"] == "/admin/users"
        assert newcomer.get("/api/account").status_code == 401  # disabled: the session ended
        listing = client.get("/admin/users").text
        assert "disabled" in listing and f'action="/admin/users/{uid}/enable"' in listing
        client.post(f"/admin/users/{uid}/enable", data={"csrf_token": token})
        reset = client.post(f"/admin/users/{uid}/password", data={"csrf_token": token})
        assert "New password for new@example.com, shown this once:" in reset.text
        again = re.search(r'<code id="shown-password">([^<]+)</code>', reset.text)
        assert again is not None and again.group(1) not in client.get("/admin/users").text
        assert login(newcomer, "new@example.com", again.group(1)).status_code == 303
        out = client.post(f"/admin/users/{uid}/sign-out", data={"csrf_token": token},
                          follow_redirects=False)  # fmt: skip
        assert out.status_code == 303 and newcomer.get("/api/account").status_code == 401
    duplicate = client.post("/admin/users", data={"csrf_token": token, "email": "new@example.com"})
    assert duplicate.status_code == 409 and "exists already" in duplicate.text
    short = client.post("/admin/users", data={"csrf_token": token, "email": "x@example.com",
                                              "password": "short"})  # fmt: skip
    assert short.status_code == 400 and "at least 8 characters" in short.text
    assert actions(engine)[2:] == ["user.create", "session.create", "user.role", "user.disable",
                                   "user.enable", "user.password", "session.create",
                                   "session.revoke_all"]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "a@example.com", "role": "root"}, "role"), ({"email": "a@example.com",
      "password": "short"}, "password"), ({"email": "a@example.com", "admin": True}, "admin")],
)  # fmt: skip
def test_the_users_api_names_the_bad_field(
    client: TestClient, engine: Engine, body: dict[str, Any], field: str
) -> None:
    person(engine, "boss@example.com", role="admin")
    token = sign_in(client, "boss@example.com")
    answer = client.post("/api/users", json=body, headers={"x-csrf-token": token})
    assert answer.status_code == 422 and field in answer.json()["message"]


def test_the_users_api(client: TestClient, engine: Engine) -> None:
    person(engine, "boss@example.com", role="admin")
    token = sign_in(client, "boss@example.com")
    headers = {"x-csrf-token": token}
    made = client.post("/api/users", json={"email": "ann@example.com", "role": "agent"},
                       headers=headers)  # fmt: skip
    assert made.status_code == 201 and len(made.json()["password"]) >= 16
    user = made.json()["user"]
    assert user["email"] == "ann@example.com" and "password_hash" not in user
    given = client.post("/api/users", json={"email": "bo@example.com", "password": "a password 1"},
                        headers=headers)  # fmt: skip
    assert given.json()["password"] is None  # chosen by the admin: not echoed
    assert client.post("/api/users", json={"email": "ann@example.com"},
                       headers=headers).status_code == 409  # fmt: skip
    listed = client.get("/api/users").json()["items"]
    assert [u["email"] for u in listed] == ["boss@example.com", "ann@example.com", "bo@example.com"]
    assert listed[0]["sessions"] == 1
    assert (
        client.patch("/api/users/999", json={"role": "agent"}, headers=headers).status_code == 404
    )
    ended = client.post(f"/api/users/{user['id']}/sign-out", headers=headers)
    assert ended.json() == {"user_id": user["id"], "sessions_ended": 0}
