"""Factories for the case tests: a customer with a detractor answer, agents, a team."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from hxpulse.auth import service as auth
from hxpulse.cases import teams
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

LUNCH = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
WED = datetime(2026, 2, 4, 10, 30, tzinfo=UTC)  # 11:30 in Berlin
PASSWORD = "agent password 1"


@dataclass
class World:
    customer_id: int
    agents: list[int]
    team_id: int
    detractor: str = "m-det:detractor"
    ids: dict[str, Any] = field(default_factory=dict)


def detractor(engine: Engine, settings: Settings, email: str, at: datetime, mid: str) -> int:
    ingest(engine, [EventIn(message_id=mid, kind="track", type="detractor", occurred_at=at,
                            identities=[("email", email)], channel="email",
                            department="delivery")], now=at, live=settings.live)  # fmt: skip
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT customer_id FROM events WHERE message_id = :m"),
                                {"m": mid}).scalar_one())  # fmt: skip


def world(engine: Engine, settings: Settings, agents: int = 3) -> World:
    customer_id = detractor(engine, settings, "ann@example.com", WED - timedelta(days=2),
                            "m-det:detractor")  # fmt: skip

    def work(conn: Connection) -> World:
        ids = [auth.create_user(conn, email=f"agent{n}@example.com", password=PASSWORD,
                                role="agent") for n in range(agents)]  # fmt: skip
        team = teams.create(conn, name="Support", zone="Europe/Berlin", hours=LUNCH,
                            country="DE", subdivision="BY", now=WED - timedelta(days=3))  # fmt: skip
        for user_id in ids:
            teams.add_member(conn, team_id=team["id"], user_id=user_id, now=WED)
        return World(customer_id, ids, int(team["id"]))

    return run_write(engine, work)
