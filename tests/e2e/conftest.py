"""End-to-end fixtures: a real `hxpulse serve` process on SQLite and on PostgreSQL.

Every test that uses `server` runs twice, once per database (test ids end in `[sqlite]` and
`[postgresql]`). PostgreSQL is one throw-away server for the whole session with a fresh
database per test; SQLite is a file in the test's tmp_path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.testing.postgres import TemporaryPostgres
from hxpulse.testing.server import ServerProcess

USER_EMAIL = "agent.e2e@example.com"
USER_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def e2e_postgres() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL server for the whole session, started on first use."""
    server = TemporaryPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def e2e_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database: a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/t.db"
    postgres: TemporaryPostgres = request.getfixturevalue("e2e_postgres")
    return postgres.create_database(f"e2e_{uuid.uuid4().hex[:16]}")


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
        self.process.start()
        return self.process

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no server log)"

    def stop_all(self) -> None:
        for process in self._all:
            process.stop()


@pytest.fixture
def server(e2e_database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    engine = make_engine(Settings(database_url=e2e_database_url))
    upgrade(engine)
    with engine.begin() as conn:
        _, write_key = auth.create_key(conn, name="e2e write key", scopes=["track"])
        _, api_key = auth.create_key(conn, name="e2e api key", scopes=["read", "write"])
        auth.create_user(conn, email=USER_EMAIL, password=USER_PASSWORD, role="admin")
    log = tmp_path / "server.log"
    process = ServerProcess(e2e_database_url, log=log)
    running = RunningServer(
        database_url=e2e_database_url,
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
        process.start()
        yield running
    finally:
        running.stop_all()
        engine.dispose()
