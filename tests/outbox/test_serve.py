"""The dispatcher inside the application (`hxpulse serve`), the jobs it runs, and
`hxpulse deliveries`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.app import create_app
from hxpulse.cli.main import app as cli
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox import service as outbox
from hxpulse.outbox.dispatch import Context
from hxpulse.outbox.dispatcher import Dispatcher
from hxpulse.outbox.service import Action
from tests.webhooks.helpers import endpoint, fan, local
from tests.webhooks.receiver import Receiver


def test_the_application_runs_a_dispatcher_when_asked_and_stops_it(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    s = local(settings)
    receiver.secrets = [endpoint(engine, s, receiver.url)["secret"]]
    application = create_app(s)
    assert application.state.dispatch is False  # tests start none unless they ask
    application.state.dispatch = True
    with TestClient(application):
        dispatcher = application.state.dispatcher
        assert isinstance(dispatcher, Dispatcher)
        fan(engine, ["served"])
        assert receiver.wait_for(1, timeout=10)
    assert dispatcher._stopping.is_set()
    assert receiver.delivered() == {"served:ops": 1}


def test_jobs_run_on_their_interval_one_at_a_time(settings: Settings, engine: Engine) -> None:
    runs: list[datetime] = []
    gate = threading.Event()

    def job(context: Context) -> None:
        runs.append(context.now)
        gate.wait(5)

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with Dispatcher(engine, settings, handlers={}, jobs=(("tick", 3600.0, job),)) as dispatcher:
        assert dispatcher.run_jobs(now=now) == ["tick"]
        assert dispatcher.run_jobs(now=now) == []  # running, and not due again for an hour
        gate.set()
    assert runs == [now]


def test_the_deliveries_command_lists_and_replays(database_url: str, engine: Engine) -> None:
    now = datetime.now(UTC)
    run_write(engine, lambda conn: outbox.enqueue(conn, [Action("nonesuch", "c1")], now=now))
    with Dispatcher(engine, Settings(database_url=database_url, environment="test")) as d:
        d.run_once(now=now)
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", database_url, "deliveries", "--status", "dead", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = orjson.loads(listed.stdout)
    assert row["key"] == "c1" and "no handler" in row["last_response"]
    replayed = runner.invoke(cli, ["--db", database_url, "deliveries", "--replay"])
    assert replayed.exit_code == 0 and "Replayed 1" in replayed.output
