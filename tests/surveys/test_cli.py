"""The survey commands: import answers (bad rows set aside with their line), the NPS report,
defining surveys, inviting, and themes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hxpulse.cli.main import app

runner = CliRunner()


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", database_url, *args])
    return result.exit_code, result.output


WHYS = [
    "Delivery was late again and the parcel was damaged",
    "Great prices and fast delivery",
    "Support staff were friendly and helpful",
    "The website checkout keeps failing",
    "Prices went up, not good value any more",
    "Friendly staff in the store, quick help",
]


def test_import_responses_with_bad_rows_and_report(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    lines = ["survey,score,answered_at,email,why,department,channel"]
    for i in range(60):
        dept = "Support" if i % 2 else "Sales"
        lines.append(
            f"Web NPS,{(i * 3) % 11},2026-0{1 + i % 3}-1{i % 9}T10:00:00Z,"
            f'p{i}@example.com,"{WHYS[i % len(WHYS)]}",{dept},web'
        )
    lines.append("Web NPS,11,2026-01-05T10:00:00Z,x@example.com,,Sales,web")  # line 62
    lines.append("Web NPS,5,yesterday,y@example.com,,Sales,web")  # line 63
    lines.append("Web NPS,5,2026-01-05T10:00:00Z,,,Sales,web")  # line 64: nobody
    path.write_text("\n".join(lines) + "\n")
    code, out = run(database_url, "import", "responses", str(path))
    assert code == 2 and "0 stored" in out and "63 rejected" in out
    assert "no survey named 'Web NPS'" in (tmp_path / "answers.csv.rejects.csv").read_text()
    code, out = run(
        database_url, "import", "responses", str(path), "--create-survey", "nps", "--json"
    )
    assert code == 0, out
    summary = json.loads(out[out.index("{") :])
    assert (summary["rows"], summary["stored"], summary["rejected"]) == (63, 60, 3)
    rejects = Path(summary["rejects_file"]).read_text().splitlines()
    assert [r.split(",")[0] for r in rejects[1:]] == ["62", "63", "64"]
    assert (
        "outside" in rejects[1]
        and "answered_at" in rejects[2]
        and "names no customer" in rejects[3]
    )
    code, out = run(
        database_url, "import", "responses", str(path), "--create-survey", "nps", "--json"
    )
    assert json.loads(out[out.index("{") :])["duplicates"] == 60
    code, out = run(database_url, "nps", "--by", "department", "--period", "month", "--json")
    assert code == 0, out
    report = json.loads(out)
    group = report["groups"][0]
    for key in (
        "nps",
        "margin_of_error",
        "n",
        "promoters",
        "passives",
        "detractors",
        "department",
        "period",
    ):
        assert key in group
    assert sum(g["n"] for g in report["groups"]) == 60 == report["overall"]["n"]
    code, out = run(database_url, "nps", "--by", "department")
    assert code == 0 and "Support" in out and "Sales" in out and "30" in out
    code, out = run(database_url, "nps", "--by", "planet")
    assert code == 1 and "by: must be one of" in out
    code, out = run(database_url, "themes", "fit", "--themes", "3")
    assert code == 0 and "3 themes from 60 answers" in out, out
    code, out = run(database_url, "themes", "list", "--json")
    themes = json.loads(out)["themes"]
    assert len(themes) == 3 and sum(t["mentions"] for t in themes) >= 50
    first, second = themes[0]["id"], themes[1]["id"]
    code, out = run(database_url, "themes", "rename", str(first), "Deliveries")
    assert code == 0 and "'Deliveries'" in out
    code, out = run(database_url, "themes", "merge", str(second), str(first))
    assert code == 0
    code, out = run(database_url, "themes", "list", "--json")
    after = json.loads(out)["themes"]
    assert len(after) == 2 and after[0]["name"] == "Deliveries"
    assert after[0]["mentions"] >= themes[0]["mentions"]
    code, out = run(database_url, "themes", "merge", str(first), str(first))
    assert code == 1 and "itself" in out


def test_define_and_invite(database_url: str, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"type": "signup", "occurred_at": "2026-01-01T00:00:00Z", "email": "a@example.com"}\n'
    )
    assert run(database_url, "import", "events", str(events))[0] == 0
    code, out = run(
        database_url,
        "surveys",
        "create",
        "Support CSAT",
        "--kind",
        "csat",
        "--department",
        "Support",
    )
    assert code == 0 and "How satisfied are you with our company?" in out
    code, out = run(database_url, "surveys", "create", "Support CSAT")
    assert code == 1 and "already exists" in out
    code, out = run(
        database_url, "surveys", "invite", "Support CSAT", "--customer", "a@example.com"
    )
    assert code == 0 and "/s/" in out
    code, out = run(
        database_url, "surveys", "invite", "Support CSAT", "--customer", "a@example.com"
    )
    assert "at most once per 30 days" in out
    code, out = run(database_url, "surveys", "invite", "Support CSAT", "--via", "email",
                    "--customer", "a@example.com")  # fmt: skip
    assert code == 1 and "no SMTP server is configured ([smtp] host)" in out
    code, out = run(database_url, "surveys", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["invited"] == 1 and listed[0]["responses"] == 0
    code, out = run(database_url, "surveys", "run")
    assert code == 0 and "No invitations are due" in out


def test_surveys_defined_in_hxpulse_toml(
    database_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hxpulse.toml").write_text(
        '[surveys]\nbrand = "Acme"\n\n[[surveys.definitions]]\nname = "Relationship NPS"\n\n'
        '[[surveys.definitions]]\nname = "Support CSAT"\nkind = "csat"\ndepartment = "Support"\n'
        'followups = { unsatisfied = "What went wrong with your case?" }\n'
    )
    code, out = run(database_url, "migrate")
    assert code == 0 and "created or updated: Relationship NPS, Support CSAT" in out
    code, out = run(database_url, "surveys", "list", "--json")
    listed = {s["name"]: s for s in json.loads(out)}
    assert listed["Relationship NPS"]["question"] == (
        "How likely are you to recommend Acme to a friend or colleague?"
    )
    assert listed["Support CSAT"]["followups"]["unsatisfied"] == "What went wrong with your case?"
    assert listed["Support CSAT"]["followups"]["satisfied"] == "What did you like most?"
    code, out = run(database_url, "migrate")
    assert "created or updated" not in out  # unchanged file, nothing to do
    (tmp_path / "hxpulse.toml").write_text(
        '[[surveys.definitions]]\nname = "Support CSAT"\nkind = "csat"\ndepartment = "Care"\n'
        '\n[[surveys.definitions]]\nname = "Broken"\nkind = "stars"\n'
    )
    code, out = run(database_url, "migrate")
    assert code == 1 and "surveys.definitions[1]" in out and "kind" in out
