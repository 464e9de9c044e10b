"""Fixtures: every storage test runs on a fresh SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.testing.postgres import TemporaryPostgres

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hxpulse.db'}"
    server: TemporaryPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="test")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    built = make_engine(settings)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def write_key(engine: Engine) -> str:
    with engine.begin() as conn:
        return auth.create_key(conn, name="tests", scopes=["track"])[1]


@pytest.fixture
def api_key(engine: Engine) -> str:
    with engine.begin() as conn:
        return auth.create_key(conn, name="tests api", scopes=["read", "write"])[1]
