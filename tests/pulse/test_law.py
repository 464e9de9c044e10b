"""Existing databases are rebuilt to the new key; a changed half-life is refused until rebuilt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from hxpulse.app import create_app
from hxpulse.cli.main import app
from hxpulse.config import PulseSettings, Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import current_revision, head_revision, upgrade
from hxpulse.errors import HXError
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import law

runner = CliRunner()
NOW = datetime.now(UTC)
WEEKLY = '{"half_life_days": 7}'


def events(user: str) -> list[EventIn]:
    return [EventIn(message_id=f"{user}-{n}", kind="track", type=kind, identities=[("email", user)],
                    occurred_at=NOW - timedelta(days=days))
            for n, (kind, days) in enumerate([("purchase", 14), ("review", 7), ("complaint", 2)])]  # fmt: skip


def pulse_of(database_url: str, user: str, *, env: dict[str, str] | None = None) -> float:
    args = ["--db", database_url, "pulse", user, "--as-of", NOW.isoformat(), "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return float(orjson.loads(result.stdout)["pulse"])


def expected(half_life: float) -> float:
    """10 (purchase, 14 days ago), 6 (review, 7 days), 12 x -5 (open complaint, 2 days)."""
    decay = 0.5 ** (1 / half_life)
    return 10 * decay**14 + 6 * decay**7 - 60 * decay**2


@pytest.fixture
def old_database(settings: Settings) -> Iterator[Engine]:
    """A database of the previous release (revision 0009) whose keys are the old, linear S."""
    built = make_engine(settings)
    upgrade(built, "0009")
    # the events alone: today's live steps write columns that revision does not have yet
    ingest(built, events("ann@example.com"), now=NOW, live=None)
    with built.begin() as conn:
        conn.execute(text("UPDATE customers SET pulse_key = 1e-40"))  # what 1997 events left
    yield built
    built.dispose()


def test_migrate_rebuilds_an_old_database_with_the_configured_half_life(
    database_url: str, old_database: Engine
) -> None:
    result = runner.invoke(app, ["--db", database_url, "migrate"], env={"HXPULSE_PULSE": WEEKLY})
    assert result.exit_code == 0, result.output
    assert "Rebuilding every customer's pulse" in result.output
    assert "rebuilt the pulse of 1 customers from 3 events" in result.output
    assert current_revision(old_database) == head_revision()
    with old_database.connect() as conn:
        assert law.rebuild_reason(conn) is None
        assert (law.recorded(conn) or {})["half_life_days"] == 7
    weekly = {"HXPULSE_PULSE": WEEKLY}
    assert pulse_of(database_url, "ann@example.com", env=weekly) == pytest.approx(
        expected(7), rel=1e-9
    )
    again = runner.invoke(app, ["--db", database_url, "migrate"], env=weekly)
    assert again.exit_code == 0 and "Rebuilding" not in again.output


def started(settings: Settings) -> None:
    """Build the application (its start-up checks run) and let it go."""
    create_app(settings).state.engine.dispose()


def test_the_server_rebuilds_an_old_database_at_start(
    settings: Settings, database_url: str, old_database: Engine
) -> None:
    started(settings)
    with old_database.connect() as conn:
        assert law.rebuild_reason(conn) is None
    assert pulse_of(database_url, "ann@example.com") == pytest.approx(expected(90), rel=1e-9)


def test_a_new_database_needs_no_rebuild(engine: Engine, settings: Settings) -> None:
    with engine.connect() as conn:
        assert law.rebuild_reason(conn) is None and law.recorded(conn) is None
    started(settings)
    with engine.connect() as conn:
        assert (law.recorded(conn) or {})["half_life_days"] == 90


def test_a_changed_half_life_is_refused_until_the_pulse_is_rebuilt(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    ingest(engine, events("bo@example.com"), now=NOW)
    assert pulse_of(database_url, "bo@example.com") == pytest.approx(expected(90), rel=1e-9)
    weekly = {"HXPULSE_PULSE": WEEKLY}
    refused = runner.invoke(app, ["--db", database_url, "pulse", "--at-risk", "5"], env=weekly)
    assert refused.exit_code == 1
    assert "half_life_days = 90.0" in refused.output and "hxpulse pulse --rebuild" in refused.output
    assert "[pulse]" in refused.output  # the error names the section (escaped for Rich)
    changed = settings.model_copy(update={"pulse": PulseSettings(half_life_days=7)})
    with pytest.raises(HXError, match="hxpulse pulse --rebuild"):
        started(changed)
    rebuilt = runner.invoke(app, ["--db", database_url, "pulse", "--rebuild"], env=weekly)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert pulse_of(database_url, "bo@example.com", env=weekly) == pytest.approx(
        expected(7), rel=1e-9
    )
    started(changed)  # starts now


def test_changed_weights_are_a_warning(engine: Engine, database_url: str) -> None:
    ingest(engine, events("cy@example.com"), now=NOW)
    pulse_of(database_url, "cy@example.com")
    heavier = {"HXPULSE_PULSE": '{"weights": {"review": {"component": "return", "weight": 9}}}'}
    result = runner.invoke(app, ["--db", database_url, "pulse", "cy@example.com"], env=heavier)
    assert result.exit_code == 0
    assert "weights changed" in result.output and "hxpulse pulse --rebuild" in result.output
    assert "the [pulse] weights changed" in result.output  # the note names the section
    with engine.connect() as conn:
        before = law.recorded(conn)
    runner.invoke(app, ["--db", database_url, "pulse", "--rebuild"], env=heavier)
    with engine.connect() as conn:
        assert law.recorded(conn) != before
    quiet = runner.invoke(app, ["--db", database_url, "pulse", "cy@example.com"], env=heavier)
    assert "weights changed" not in quiet.output
