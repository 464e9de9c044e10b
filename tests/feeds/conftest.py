"""The feed tests' fixtures: a real SMTP server, and a real `hxpulse serve` for the streams."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.testing.server import ServerProcess
from tests.surveys.smtp import smtp_server  # noqa: F401 - the fixture, shared with surveys

PASSWORD = "feed password 1"


@dataclass
class Served:
    """A real `hxpulse serve` on 127.0.0.1 over the test's database, with what calls need."""

    url: str
    secret: str  # the server's signing secret (kept in the database)
    backend_key: str  # a `write` key: may issue feed tokens
    reader_key: str  # a `read` key: may follow the team feed, not issue tokens
    agent: str  # a signed-in person's email (password PASSWORD)

    def signed_in(self) -> httpx.Client:
        """A client with the agent's session cookie."""
        client = httpx.Client(base_url=self.url, timeout=10)
        form = client.get("/login").text
        found = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert found is not None
        answer = client.post("/login", data={"email": self.agent, "password": PASSWORD,
                                             "csrf_token": found.group(1)})  # fmt: skip
        assert answer.status_code in (200, 303), answer.text
        return client


@pytest.fixture
def served(
    database_url: str, engine: Engine, settings: Settings, tmp_path: Path
) -> Iterator[Served]:
    with engine.begin() as conn:
        secret = auth.session_secret(conn)
        backend = auth.create_key(conn, name="shop backend", scopes=["write"])[1]
        reader = auth.create_key(conn, name="reader", scopes=["read"])[1]
        auth.create_user(conn, email="agent@example.com", password=PASSWORD, role="agent")
    process = ServerProcess(database_url, log=tmp_path / "server.log").start()
    try:
        yield Served(process.url, secret, backend, reader, "agent@example.com")
    finally:
        process.stop()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
