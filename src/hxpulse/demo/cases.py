"""The demo's closed loop: agents, three teams with business hours, and cases in every status
(some breached), opened from the latest detractor answers and complaints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth.models import User
from hxpulse.cases import jobs, service, teams
from hxpulse.cases import resolve as resolving
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.pulse.models import PulseNegative

AGENTS = (("ana.agent@hxpulse.example", "Ana Agent", "Support"),
          ("ben.agent@hxpulse.example", "Ben Agent", "Support"),
          ("cleo.agent@hxpulse.example", "Cleo Agent", "Social"),
          ("dev.agent@hxpulse.example", "Dev Agent", "Billing"))  # fmt: skip
WEEK = [["09:00", "12:00"], ["13:00", "17:00"]]
TEAMS: tuple[dict[str, Any], ...] = (
    {"name": "Support", "zone": "America/New_York", "country": "US",
     "hours": {d: WEEK for d in ("mon", "tue", "wed", "thu", "fri")}},
    {"name": "Social", "zone": "UTC", "country": None, "hours": {}},  # 24/7
    {"name": "Billing", "zone": "Europe/Berlin", "country": "DE",
     "hours": {d: [["08:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}},
)  # fmt: skip
# (status, team, priority, channel, hours ago it was opened): every status, and some breached
PLAN: tuple[tuple[str, str, str, str, float], ...] = (
    ("open", "Support", "high", "email", 30),
    ("open", "Social", "normal", "social", 2),
    ("open", "Billing", "urgent", "phone", 1),
    ("open", "Support", "urgent", "app", 0.2),
    ("in_progress", "Support", "normal", "web", 6),
    ("in_progress", "Billing", "high", "email", 50),
    ("waiting", "Support", "low", "chat", 20),
    ("waiting", "Social", "normal", "social", 3),
    ("resolved", "Support", "normal", "email", 70),
    ("resolved", "Billing", "low", "store", 120),
    ("resolved", "Social", "urgent", "social", 9),
    ("closed", "Social", "high", "social", 200),
)
DEMO = Who("system", None, "demo")
users_t = cast(Table, User.__table__)
negatives_t = cast(Table, PulseNegative.__table__)


def _people(conn: Connection, password: str, now: datetime) -> dict[str, int]:
    ids: dict[str, int] = {}
    for email, name, _ in AGENTS:
        row = conn.execute(select(users_t.c.id).where(users_t.c.email == email)).first()
        ids[email] = int(row.id) if row else auth.create_user(
            conn, email=email, password=password, role="agent", name=name)  # fmt: skip
    for spec in TEAMS:
        try:
            team = teams.find(conn, str(spec["name"]))
        except Exception:  # noqa: BLE001 - not there yet
            team = teams.create(conn, name=str(spec["name"]), zone=str(spec["zone"]),
                                hours=spec["hours"], country=spec["country"],
                                now=now)  # fmt: skip
        for email, _, home in AGENTS:
            if home == spec["name"]:
                teams.add_member(conn, team_id=team["id"], user_id=ids[email], now=now)
    return ids


def _negatives(conn: Connection, count: int) -> list[Any]:
    n = negatives_t.c
    return list(conn.execute(
        select(n.customer_id, n.message_id, n.event_type)
        .where(n.resolved_at.is_(None), n.event_type != "")
        .order_by(n.occurred_at.desc(), n.id.desc()).limit(count)))  # fmt: skip


def _work(conn: Connection, settings: Settings, case_id: int, status: str,
          opened: datetime, now: datetime) -> None:  # fmt: skip
    """Move a case along its plan, at moments between its opening and now."""
    step = (now - opened) / 4
    if status in ("in_progress", "waiting", "resolved", "closed"):
        service.reply(conn, settings, case_id=case_id, who=DEMO, now=opened + step,
                      body="Thank you for telling us. We are sorry, and we are on it.")  # fmt: skip
    if status == "waiting":
        service.set_status(conn, settings, case_id=case_id, status="waiting", who=DEMO,
                           now=opened + 2 * step)  # fmt: skip
    if status in ("resolved", "closed"):
        resolving.resolve(conn, settings, case_id=case_id, who=DEMO, now=opened + 3 * step,
                          message="We have put it right; thank you for your patience.")  # fmt: skip
    if status == "closed":
        service.set_status(conn, settings, case_id=case_id, status="closed", who=DEMO,
                           now=opened + 3 * step + timedelta(minutes=1))  # fmt: skip


def ensure_demo_cases(engine: Engine, settings: Settings, *, password: str, now: datetime) -> int:
    """Create the agents, teams and cases unless there (again: nothing twice); return how many
    cases were opened."""

    def work(conn: Connection) -> int:
        _people(conn, password, now - timedelta(days=30))
        done = select(service.cases_t.c.id).where(service.cases_t.c.source_key.startswith("demo:"))
        if conn.execute(done.limit(1)).first() is not None:
            return 0  # loaded before
        opened = 0
        for plan, negative in zip(PLAN, _negatives(conn, len(PLAN)), strict=False):
            status, team, priority, channel, hours = plan
            start = now - timedelta(hours=hours)
            made, created = service.create(
                conn, settings, customer_id=negative.customer_id,
                reason=f"Follow up the {negative.event_type.replace('_', ' ')}",
                source_key=f"demo:{negative.message_id}", source_event=negative.message_id,
                priority=priority, team=team, channel=channel, who=DEMO, now=start)  # fmt: skip
            if created:
                _work(conn, settings, int(made["id"]), status, start, now)
                opened += 1
        jobs.sweep(conn, settings, now)  # the breaches due by now, stamped at their due times
        return opened

    return run_write(engine, work)
