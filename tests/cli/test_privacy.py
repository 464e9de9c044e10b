"""`hxpulse export`, `hxpulse erase` and `hxpulse audit` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.conftest import T0

runner = CliRunner()
EMAIL = "ann.cli@example.com"


def run(database_url: str, *args: str, given: str | None = None) -> object:
    return runner.invoke(app, ["--db", database_url, *args], input=given)


def _customer(engine: Engine) -> None:
    ingest(engine, [EventIn(message_id="c1", kind="identify", type="identify", occurred_at=T0,
                            identities=[("email", EMAIL), ("user_id", "ann-cli")],
                            traits={"name": "Ann Cli"})])  # fmt: skip


def test_export_to_a_file_and_to_stdout(engine: Engine, database_url: str, tmp_path: Path) -> None:
    _customer(engine)
    target = tmp_path / "ann.json"
    done = run(database_url, "export", EMAIL, "--output", str(target))
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    doc = orjson.loads(target.read_bytes())
    assert doc["customer_id"] == 1 and doc["traits"]["name"] == "Ann Cli"
    printed = run(database_url, "export", "id:1")
    assert orjson.loads(printed.stdout)["identities"][0]["value"] == EMAIL  # type: ignore[attr-defined]
    missing = run(database_url, "export", "nobody@example.com")
    assert missing.exit_code == 1 and "no customer" in missing.output  # type: ignore[attr-defined]


def test_erase_asks_first_unless_told_yes(engine: Engine, database_url: str) -> None:
    _customer(engine)
    kept = run(database_url, "erase", EMAIL, given="n\n")
    assert kept.exit_code == 1 and "2 identities" in kept.output  # type: ignore[attr-defined]
    assert "Nothing erased" in kept.output  # type: ignore[attr-defined]
    done = run(database_url, "erase", EMAIL, "--yes", "--json")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    counts = orjson.loads(done.stdout)  # type: ignore[attr-defined]
    assert (counts["customer_id"], counts["identities"], counts["tombstones"]) == (1, 2, 2)
    assert run(database_url, "erase", EMAIL, "--yes").exit_code == 1  # no longer found by email
    again = run(database_url, "export", "id:1")
    assert orjson.loads(again.stdout)["identities"] == []  # type: ignore[attr-defined]


def test_audit_lists_what_the_commands_did(engine: Engine, database_url: str) -> None:
    _customer(engine)
    run(database_url, "export", EMAIL)
    run(database_url, "erase", "ann-cli", "--yes")
    listed = run(database_url, "audit", "--json")
    entries = orjson.loads(listed.stdout)  # type: ignore[attr-defined]
    assert [e["action"] for e in entries] == ["customer.erase", "customer.export"]
    assert all(e["actor_label"].startswith("command line (") for e in entries)
    assert all(e["subject_id"] == "1" and EMAIL not in str(e) for e in entries)
    only = orjson.loads(run(database_url, "audit", "--action", "customer.export", "--customer",
                            "id:1", "--since", "2020-01-01", "--json").stdout)  # type: ignore[attr-defined]  # fmt: skip
    assert [e["action"] for e in only] == ["customer.export"]
    table = run(database_url, "audit", "--limit", "1")
    assert "customer.erase" in table.stdout and "customer.export" not in table.stdout  # type: ignore[attr-defined]
    bad = run(database_url, "audit", "--since", "tomorrow")
    assert bad.exit_code == 1 and "since" in bad.output  # type: ignore[attr-defined]
    assert run(database_url, "audit", "--limit", "0").exit_code == 1
