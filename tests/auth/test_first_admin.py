"""A database with no users says how to create the first admin: `hxpulse serve` prints the
command at start-up and the sign-in page shows it, until there is anyone at all."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.auth import users
from hxpulse.cli.main import app
from tests.auth.helpers import csrf_token, person

runner = CliRunner()
HINT = re.compile(r'<p class="note" id="first-admin">.*?<code>([^<]+)</code>', re.S)


def test_the_serve_hint_names_a_command_that_makes_the_first_admin(
    engine: Engine, database_url: str
) -> None:
    with engine.connect() as conn:
        hint = users.first_admin_hint(conn)
    assert hint is not None and "No one can sign in yet" in hint
    command = re.search(r"`([^`]+)`", hint)
    assert command is not None and command.group(1) == users.FIRST_ADMIN
    words = shlex.split(command.group(1).replace("EMAIL", "first@example.com"))
    assert words[0] == "hxpulse"
    made = runner.invoke(app, ["--db", database_url, *words[1:], "--password", "a long secret"])
    assert made.exit_code == 0, made.output
    with engine.connect() as conn:
        assert [(u["email"], u["role"]) for u in users.list_users(conn, now=datetime.now(UTC))] == [
            ("first@example.com", "admin")
        ]
        assert users.first_admin_hint(conn) is None


def test_serve_prints_the_hint_only_while_there_are_no_users(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    def run(application: Any, **_options: Any) -> None:  # start-up only: no server
        application.state.engine.dispose()

    monkeypatch.setattr(uvicorn, "run", run)
    first = runner.invoke(app, ["--db", database_url, "serve"])
    assert first.exit_code == 0, first.output
    hint = [line for line in first.output.splitlines() if "No one can sign in yet" in line]
    assert len(hint) == 1 and f"`{users.FIRST_ADMIN}`" in hint[0]  # one line, the command whole
    person(engine, "ann@example.com", role="agent")
    again = runner.invoke(app, ["--db", database_url, "serve"])
    assert again.exit_code == 0, again.output
    assert "HX Pulse on http://" in again.output and "No one can sign in" not in again.output


def test_the_sign_in_page_shows_the_hint_only_while_there_are_no_users(
    client: TestClient, engine: Engine
) -> None:
    empty = client.get("/login")
    shown = HINT.search(empty.text)
    assert empty.status_code == 200 and shown is not None
    assert shown.group(1) == users.FIRST_ADMIN
    wrong = client.post("/login", data={"email": "x@example.com", "password": "nope",
                                        "csrf_token": csrf_token(client)})  # fmt: skip
    assert wrong.status_code == 400 and HINT.search(wrong.text) is not None
    person(engine, "ann@example.com", role="agent")
    users_now = client.get("/login")
    assert users_now.status_code == 200 and 'id="email"' in users_now.text
    assert 'id="first-admin"' not in users_now.text and users.FIRST_ADMIN not in users_now.text
