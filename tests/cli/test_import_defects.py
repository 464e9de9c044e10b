"""`hxpulse import events|responses` with files holding every kind of defect: each bad row goes
to FILE.rejects.csv with the line it starts on, the reason naming the column and the row as in
the file, and every good row is stored; through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.events.rows import MAX_ROW_LINES

runner = CliRunner()
HEADER = b"type,occurred_at,user_id,value,properties.note\n"


def run(database_url: str, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["--db", database_url, *args, "--json"])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    summary: dict[str, Any] = orjson.loads(result.stdout[result.stdout.index("{") :])
    return summary


def rejects(path: Path) -> list[list[str]]:
    with path.with_name(path.name + ".rejects.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "reason", "data"]
    return rows[1:]


def stats(database_url: str) -> dict[str, int]:
    result = runner.invoke(app, ["--db", database_url, "stats", "--json"])
    counts: dict[str, int] = orjson.loads(result.stdout)
    return counts


def test_every_bad_csv_row_is_set_aside_with_its_line_and_text(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "events.csv"
    lines = [
        HEADER,                                                              # 1
        b"purchase,2026-01-01T10:00:00Z,u1,10,fine\n",                       # 2 stored
        b"purchase,0001-01-01T00:00:00+14:00,u2,10,year one\n",              # 3
        b"purchase,2026-01-01T10:00:00Z,u3,10,caf\xe9 in latin-1\n",         # 4
        b'purchase,2026-01-01T10:00:00Z,u4,10,"never closed\n',              # 5
        b"purchase,2026-01-01T10:00:00Z,u5,10,after the open quote\n",       # 6 stored
        b'purchase,2026-01-01T10:00:00Z,u6,10,"two\n',                       # 7 stored (7-8)
        b'lines, one cell"\n',                                               # 8
        b"purchase,2026-01-01T10:00:00Z," + b"x" * 5000 + b",10,long\n",     # 9
        b"purchase,2026-01-01T10:00:00Z,u7,10,nul \x00 here\n",              # 10
        b"purchase,2026-01-01T10:00:00Z,u8,1e13,absurd\n",                   # 11
        b"purchase,2026-01-01T10:00:00Z,u9,10,too,many\n",                   # 12
        b'purchase,2026-01-01T10:00:00Z,u10,10,5" screen\n',                 # 13 stored
        b"purchase,9999-12-31T23:59:59-14:00,u11,10,\n",                     # 14
        b"\n",                                                               # 15 blank
        b'purchase,2026-01-01T10:00:00Z,u12,10,"last, not closed\n',         # 16
    ]  # fmt: skip
    source.write_bytes(b"".join(lines))
    summary = run(database_url, "import", "events", str(source))
    assert (summary["rows"], summary["stored"], summary["rejected"]) == (13, 4, 9), summary
    got = {int(line): (reason, data) for line, reason, data in rejects(source)}
    assert sorted(got) == [3, 4, 5, 9, 10, 11, 12, 14, 16]
    assert got[3] == ("occurred_at: 0001-01-01T00:00:00+14:00 is before 1970-01-01, the earliest "
                      "moment accepted", "purchase,0001-01-01T00:00:00+14:00,u2,10,year one")  # fmt: skip
    assert got[4] == ("properties.note: the cell is not valid UTF-8 (byte 0xe9 at character 4)",
                      "purchase,2026-01-01T10:00:00Z,u3,10,caf\\xe9 in latin-1")  # fmt: skip
    assert got[5][0].startswith("not valid CSV: the quoted cell that opens on this line")
    assert got[5][1] == 'purchase,2026-01-01T10:00:00Z,u4,10,"never closed'
    assert got[9][0] == "user_id: String should have at most 320 characters"
    assert got[10][0].startswith("properties.note: text contains a NUL character")
    assert got[11][0] == "value: 1e+13 is beyond the largest amount accepted, ±1e+12"
    assert got[12] == ("6 cells where the header has 5 columns",
                       "purchase,2026-01-01T10:00:00Z,u9,10,too,many")  # fmt: skip
    assert got[14][0].startswith("occurred_at: 9999-12-31T23:59:59-14:00 is after year 9999")
    assert got[16][0] == "not valid CSV: the quote does not close before the end of the file"
    assert stats(database_url)["events"] == 4
    again = run(database_url, "import", "events", str(source))
    assert (again["stored"], again["duplicates"], again["rejected"]) == (0, 4, 9)


def test_a_quote_open_for_too_many_lines_swallows_nothing(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "events.csv"
    rows = [b'purchase,2026-01-01T10:00:00Z,u0,10,"opens and never closes\n']
    rows += [b"purchase,2026-01-01T10:00:00Z,u%d,10,row\n" % n for n in range(1, 40)]
    rows.append(b'purchase,2026-01-01T10:00:00Z,u40,10,"a late "" quote"\n')
    source.write_bytes(HEADER + b"".join(rows))
    summary = run(database_url, "import", "events", str(source))
    assert (summary["stored"], summary["rejected"]) == (40, 1), summary
    [(line, reason, data)] = rejects(source)
    assert line == "2" and f"within {MAX_ROW_LINES} lines" in reason
    assert data == 'purchase,2026-01-01T10:00:00Z,u0,10,"opens and never closes'


def test_99_good_rows_and_one_bad_store_99(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    rows = [b"purchase,2026-01-01T10:00:00Z,u%d,10,ok\n" % n for n in range(99)]
    rows.insert(60, b"purchase,2026-01-01T10:00:00Z,bad,10,\xff\xfe\n")
    source.write_bytes(HEADER + b"".join(rows))
    summary = run(database_url, "import", "events", str(source))
    assert (summary["stored"], summary["rejected"]) == (99, 1)
    assert [r[0] for r in rejects(source)] == ["62"]


def test_every_bad_jsonl_line_is_set_aside_with_its_number(
    database_url: str, tmp_path: Path
) -> None:
    def event(user: str, **extra: Any) -> bytes:
        return orjson.dumps({"type": "purchase", "occurred_at": "2026-01-01T10:00:00Z",
                             "user_id": user, **extra}) + b"\n"  # fmt: skip

    deep = b'{"type":"x","user_id":"d","occurred_at":"2026-01-01T10:00:00Z","properties":'
    deep += b'{"a":' * 300 + b"1" + b"}" * 300 + b"}\n"
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join([
        event("j1"),                                                         # 1 stored
        event("j2", occurred_at="0001-01-01T00:00:00+14:00"),                # 2
        event("j3", name="caf").replace(b"caf", b"caf\xe9"),                 # 3
        deep,                                                                # 4
        b"[1, 2]\n",                                                         # 5
        b"{not json\n",                                                      # 6
        event("j4", properties={"note": "\u0000"}),                          # 7
        b"\n",                                                               # 8
        event("j5", value=1e308),                                            # 9
        event("j6"),                                                         # 10 stored
    ]))  # fmt: skip
    summary = run(database_url, "import", "events", str(source))
    assert (summary["rows"], summary["stored"], summary["rejected"]) == (9, 2, 7), summary
    got = {int(line): (reason, data) for line, reason, data in rejects(source)}
    assert sorted(got) == [2, 3, 4, 5, 6, 7, 9]
    assert got[2][0].startswith("occurred_at: 0001-01-01T00:00:00+14:00 is before 1970-01-01")
    assert got[3][0].startswith("line 3 is not valid UTF-8 (byte 0xe9")
    assert "caf\\xe9" in got[3][1]
    assert got[4][0] == "the line nests deeper than 64 levels"
    assert got[5][0] == "each line must be a JSON object" and got[5][1] == "[1, 2]"
    assert got[6][0].startswith("the line is not valid JSON") and got[6][1] == "{not json"
    assert got[7][0].startswith("properties.note: text contains a NUL character")
    assert got[9][0].startswith("value: 1e+308 is beyond the largest amount accepted")


def test_bad_answer_rows_are_set_aside_and_good_ones_stored(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "answers.csv"
    source.write_bytes(b"".join([
        b"survey,score,answered_at,email,why\n",                             # 1
        b"Web NPS,9,2026-01-01T10:00:00Z,a1@example.com,fine\n",             # 2 stored
        b"Web NPS,9,0001-01-01T00:00:00+14:00,a2@example.com,year one\n",    # 3
        b"Web NPS,9,2026-01-01T10:00:00Z,a3@example.com,caf\xe9\n",          # 4
        b'Web NPS,9,2026-01-01T10:00:00Z,a4@example.com,"never closed\n',    # 5
        b"Web NPS,9,2026-01-01T10:00:00Z,a5@example.com,nul\x00\n",          # 6
        b'Web NPS,2,2026-01-01T10:00:00Z,a6@example.com,"slow,\n',           # 7 stored (7-8)
        b'and late"\n',                                                      # 8
        b"Web NPS,9,9999-12-31T23:59:59-14:00,a7@example.com,\n",            # 9
    ]))  # fmt: skip
    summary = run(database_url, "import", "responses", str(source), "--create-survey", "nps")
    assert (summary["stored"], summary["rejected"]) == (2, 5), summary
    got = {int(line): (reason, data) for line, reason, data in rejects(source)}
    assert sorted(got) == [3, 4, 5, 6, 9]
    assert got[3][0].startswith("answered_at: 0001-01-01T00:00:00+14:00 is before 1970-01-01")
    assert got[4] == ("why: the cell is not valid UTF-8 (byte 0xe9 at character 4)",
                      "Web NPS,9,2026-01-01T10:00:00Z,a3@example.com,caf\\xe9")  # fmt: skip
    assert got[5][0].startswith("not valid CSV: the quoted cell that opens on this line")
    assert got[6][0].startswith("why: text contains a NUL character")
    assert got[9][0].startswith("answered_at: 9999-12-31T23:59:59-14:00 is after year 9999")
