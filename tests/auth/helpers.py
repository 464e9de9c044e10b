"""Shared helpers for the auth tests: people, signing in through the form, frozen clocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.config import Settings

PASSWORD = "correct horse battery"


def person(engine: Engine, email: str, role: str = "agent", password: str = PASSWORD) -> int:
    with engine.begin() as conn:
        return auth.create_user(conn, email=email, password=password, role=role)


def csrf_token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Post the sign-in form as a browser does; return the answer (not followed)."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, follow_redirects=False)  # fmt: skip


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in and return the page's CSRF token for the JSON API."""
    answer = login(client, email, password)
    assert answer.status_code == 303, answer.text
    return csrf_token(client, "/account")


class Clock:
    """A frozen clock for `app.state.clock`: moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def app_with(settings: Settings, clock: Clock | None = None, **changes: Any) -> Iterator[FastAPI]:
    """An application for `settings` with `changes`, on a frozen clock if given."""
    app = create_app(settings.model_copy(update=changes))
    if clock is not None:
        app.state.clock = clock
    try:
        yield app
    finally:
        app.state.engine.dispose()
