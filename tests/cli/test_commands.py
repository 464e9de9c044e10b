"""The command line: import with rejects, stats, keys and users; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from hxpulse.cli.main import app

runner = CliRunner()

CSV = """type,occurred_at,user_id,email,channel,department,value,currency,properties.sku
purchase,2026-03-01T10:00:00Z,u1,,store,sales,19.90,EUR,A-1
page_view,2026-03-01T10:05:00Z,,ann@example.com,web,,,,
purchase,not-a-date,u2,,store,,5,EUR,
purchase,2026-03-02T10:00:00Z,,,web,,,,
purchase,2026-03-02T11:00:00Z,u3,,web,,lots,EUR,
support_contact,2026-03-03T09:00:00+02:00,u1,,phone,support,,,
"""


def run(database_url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", database_url, *args])


def test_import_csv_keeps_good_rows_and_rejects_bad_ones(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text(CSV)
    result = run(database_url, "import", "events", str(source), "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = orjson.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary == {"rows": 6, "stored": 3, "duplicates": 0, "erased": 0, "rejected": 3,
                       "rejects_file": str(tmp_path / "events.csv.rejects.csv")}  # fmt: skip
    rejects = (tmp_path / "events.csv.rejects.csv").read_text().splitlines()
    assert rejects[0] == "line,reason,data"
    assert [r.split(",")[0] for r in rejects[1:]] == ["4", "5", "6"]
    assert "occurred_at" in rejects[1] and "identity" in rejects[2] and "value" in rejects[3]
    again = orjson.loads(run(database_url, "import", "events", str(source), "--json").stdout)  # type: ignore[attr-defined]
    assert again["stored"] == 0 and again["duplicates"] == 3
    stats = orjson.loads(run(database_url, "stats", "--json").stdout)  # type: ignore[attr-defined]
    assert stats == {"customers": 2, "events": 3, "identities": 2}


def test_import_jsonl_reports_line_numbers(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(
        '{"type": "purchase", "occurred_at": "2026-03-01T10:00:00Z", "phone": "+1 415 555 0100"}\n'
        "\n"
        "{not json\n"
        '{"type": "purchase", "occurred_at": "2026-03-01T10:00:00Z", "phone": "123"}\n'
    )
    summary = orjson.loads(run(database_url, "import", "events", str(source), "--json").stdout)  # type: ignore[attr-defined]
    assert (summary["stored"], summary["rejected"]) == (1, 2)
    rejects = (tmp_path / "events.jsonl.rejects.csv").read_text()
    assert "\n3," in rejects and "not valid JSON" in rejects and "\n4," in rejects


def test_import_refuses_a_file_without_required_columns(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("type,when,user_id\npurchase,2026-01-01,u1\n")
    result = run(database_url, "import", "events", str(source))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "line 1" in result.output and "occurred_at" in result.output  # type: ignore[attr-defined]


def test_keys_create_prints_the_key_alone_on_the_last_line(database_url: str) -> None:
    result = run(database_url, "keys", "create", "--name", "shop", "--scope", "track")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    key = result.stdout.strip().splitlines()[-1]  # type: ignore[attr-defined]
    assert key.startswith("hxw_") and len(key) > 40
    listed = run(database_url, "keys", "list", "--json").stdout  # type: ignore[attr-defined]
    assert "shop" in listed and key not in listed
    bad = run(database_url, "keys", "create", "--name", "x", "--scope", "everything")
    assert bad.exit_code == 1 and "unknown scope" in bad.output  # type: ignore[attr-defined]


def test_keys_create_with_origins_makes_a_browser_key(database_url: str) -> None:
    result = run(database_url, "keys", "create", "--name", "shop", "--scope", "track",
                 "--origin", "https://Shop.Example", "--origin", "http://localhost:3000")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "https://shop.example, http://localhost:3000" in result.output  # type: ignore[attr-defined]
    listed = run(database_url, "keys", "list").output  # type: ignore[attr-defined]
    assert "origins" in listed.splitlines()[1]  # the table gains the column for browser keys
    rows = orjson.loads(run(database_url, "keys", "list", "--json").stdout)  # type: ignore[attr-defined]
    assert rows[0]["origins"] == ["https://shop.example", "http://localhost:3000"]
    for args in (["--scope", "write", "--origin", "https://a.example"], ["--origin", "a.example"]):
        bad = run(database_url, "keys", "create", "--name", "x", *args)
        assert bad.exit_code == 1 and "Error" in bad.output, args  # type: ignore[attr-defined]
        assert "track scope" in bad.output or "not a web origin" in bad.output  # type: ignore[attr-defined]


def test_users_create_refuses_a_duplicate_and_a_bad_role(database_url: str) -> None:
    ok = run(
        database_url,
        "users",
        "create",
        "a@example.com",
        "--role",
        "admin",
        "--password",
        "s3cret-pass",
    )
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    again = run(
        database_url,
        "users",
        "create",
        "A@example.com",
        "--role",
        "admin",
        "--password",
        "s3cret-pass",
    )
    assert again.exit_code == 1 and "exists already" in again.output  # type: ignore[attr-defined]
    role = run(
        database_url,
        "users",
        "create",
        "b@example.com",
        "--role",
        "boss",
        "--password",
        "s3cret-pass",
    )
    assert role.exit_code == 1 and "unknown role" in role.output  # type: ignore[attr-defined]
