"""The demo's cases: agents, teams with hours, every status, some breached; loaded once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from hxpulse.cases import service, teams
from hxpulse.config import Settings
from hxpulse.demo.cases import ensure_demo_cases
from tests.cases.helpers import WED, detractor


def test_the_demo_has_agents_teams_cases_in_every_status_and_breaches(
    engine: Engine, settings: Settings
) -> None:
    for n in range(14):
        detractor(engine, settings, f"c{n}@example.com", WED - timedelta(days=20, hours=n),
                  f"demo-{n}:detractor")  # fmt: skip
    assert ensure_demo_cases(engine, settings, password="demo password", now=WED) == 12
    assert ensure_demo_cases(engine, settings, password="demo password", now=WED) == 0
    with engine.connect() as conn:
        found = service.list_cases(conn, now=WED)
        names = {t["name"]: t for t in teams.list_teams(conn)}
    assert {c["status"] for c in found} == {"open", "in_progress", "waiting", "resolved",
                                            "closed"}  # fmt: skip
    assert any(c["breached"] for c in found) and not all(c["breached"] for c in found)
    assert all(c["owner"] for c in found)
    assert set(names) == {"Support", "Social", "Billing"}
    assert names["Support"]["hours_text"] == "mon-fri 09:00-12:00 13:00-17:00"
