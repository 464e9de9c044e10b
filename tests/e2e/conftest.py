"""End-to-end fixtures: a real `hxpulse serve` process on SQLite and on PostgreSQL.

Every test that uses `server` runs twice, once per database (`database_url` from
tests/conftest.py: test ids end in `[sqlite]` and `[postgresql]`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.testing.server import ServerProcess

USER_EMAIL = "agent.e2e@example.com"
USER_PASSWORD = "correct horse battery staple"


def start(process: ServerProcess) -> ServerProcess:
    """Start `process` with its own address as the public URL, so the survey links it shows
    lead back to it (the child gets a copy of the environment; this one is restored)."""
    with mock.patch.dict(os.environ, {"HXPULSE_PUBLIC_URL": process.url}):
        return process.start()


@dataclass
class RunningServer:
    """A migrated database with keys and a user, served by `hxpulse serve` in a subprocess."""

    database_url: str
    engine: Engine
    write_key: str
    api_key: str
    user_email: str
    user_password: str
    log: Path
    process: ServerProcess
    _all: list[ServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def restart(self) -> ServerProcess:
        """Start a new server process on the same database (after `process.kill()`)."""
        self.process = ServerProcess(self.database_url, log=self.log)
        self._all.append(self.process)
        return start(self.process)

    def sign_in(self, page: Page, path: str) -> None:
        """Open `path` in the browser `page`, sign in on the login page it leads to, and land
        back on `path`."""
        page.goto(f"{self.url}{path}")
        page.fill("#email", self.user_email)
        page.fill("#password", self.user_password)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{self.url}{path}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no server log)"

    def stop_all(self) -> None:
        for process in self._all:
            process.stop()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)
    with engine.begin() as conn:
        _, write_key = auth.create_key(conn, name="e2e write key", scopes=["track"])
        _, api_key = auth.create_key(conn, name="e2e api key", scopes=["read", "write"])
        auth.create_user(conn, email=USER_EMAIL, password=USER_PASSWORD, role="admin")
    log = tmp_path / "server.log"
    process = ServerProcess(database_url, log=log)
    running = RunningServer(
        database_url=database_url,
        engine=engine,
        write_key=write_key,
        api_key=api_key,
        user_email=USER_EMAIL,
        user_password=USER_PASSWORD,
        log=log,
        process=process,
        _all=[process],
    )
    try:
        start(process)
        yield running
    finally:
        running.stop_all()
        engine.dispose()
