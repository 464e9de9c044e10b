"""The one place a case event (opened, assigned, breached, resolved, reopened) is announced.

In the caller's transaction, so each announcement exists if and only if the change is committed:
a `feed` action for the case's team (the team feed shows it to its agents), the rules on
`{ case = "opened" | "breached" | "resolved" }` (`rules.service.fire`), and one webhook per
endpoint that wants `case.<name>` (`webhooks.service.fan_out`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from hxpulse.cases.models import CaseEntry
from hxpulse.config import Live
from hxpulse.outbox.service import Action, enqueue
from hxpulse.rules import service as rules
from hxpulse.rules.service import Trigger
from hxpulse.webhooks import service as webhooks

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
    cause = f"case:{case['id']}"
    key = f"case:{case['id']}:{name}:{mark}"
    rules.fire(conn, live, Trigger("case", name, case["customer_id"], f"{cause}:{name}:{mark}",
                                   data), now=now)  # fmt: skip
    webhooks.fan_out(conn, event_type=f"case.{name}", data=data, key=key,
                     customer_id=case["customer_id"], cause=cause, now=now)  # fmt: skip
