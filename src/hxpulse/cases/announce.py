"""The one place a case event (opened, assigned, breached, resolved) is announced.

Today: a `feed` action for the case's team (the live feed shows it to its agents). After the
merge the lead adds, here and only here:
    rules.service.fire(conn, live, Trigger("case", name, case["customer_id"],
                                           f"case:{case['id']}", data), now=now)
    webhooks' fan_out(conn, ..., event_type=f"case.{name}", data=data, now=now)
so rules on `{ case = "opened" | "breached" | "resolved" }` and webhook endpoints see every one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from hxpulse.cases.models import CaseEntry
from hxpulse.config import Live
from hxpulse.outbox.service import Action, enqueue

NAMES = ("opened", "assigned", "breached", "resolved", "reopened")
FIELDS = ("id", "customer_id", "status", "reason", "priority", "channel", "department", "team",
          "owner", "first_response_due", "resolution_due", "source_event")  # fmt: skip


def data_of(case: dict[str, Any]) -> dict[str, Any]:
    """The case as its announcements carry it (JSON: moments as ISO strings)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in case.items() if k in FIELDS}  # fmt: skip


def announce(conn: Connection, live: Live, name: str, case: dict[str, Any], now: datetime) -> None:
    """Announce case event `name` (one of NAMES) in the caller's transaction."""
    if name not in NAMES:
        raise ValueError(f"unknown case event {name!r}")
    entry = conn.execute(select(func.max(CaseEntry.id)).where(CaseEntry.case_id == case["id"]))
    mark = entry.scalar_one_or_none() or 0  # the entry that records it: one key per event
    data = data_of(case)
    payload = {"scope": "team", "team": case.get("team"), "type": f"case.{name}", "data": data}
    enqueue(conn, [Action("feed", f"case:{case['id']}:{name}:{mark}", payload,
                          customer_id=case["customer_id"], cause=f"case:{case['id']}")],
            now=now)  # fmt: skip
    _ = live  # the rules engine reads it (see the module's docstring)
