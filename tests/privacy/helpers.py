"""Shared helpers for the privacy route tests: people of each role, keys of each scope."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.auth import service as auth

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}


def sign_in(client: TestClient, engine: Engine, role: str) -> str:
    """Sign `client` in as a new person with `role`; return the session's CSRF token."""
    email = f"{role}.{len(client.cookies)}@example.com"
    with engine.begin() as conn:
        auth.create_user(conn, email=email, password=PASSWORD, role=role)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/customers").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def key(engine: Engine, *scopes: str) -> dict[str, str]:
    with engine.begin() as conn:
        secret = auth.create_key(conn, name=f"{'+'.join(scopes)} key", scopes=list(scopes))[1]
    return {"authorization": f"Bearer {secret}"}
