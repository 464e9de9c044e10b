"""Resolving a case closes the loop, in one transaction: status and timeline, the resolution
event (its `properties.resolves` names the negative the case is about, so the pulse lifts that
negative's extra 11 parts exactly as it does for any resolution), a `notify` action telling the
customer on their own channel, and (if configured) a `survey.invite` action ("did we fix it?").
Re-opening restarts the resolution clock and says so in the thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.cases import calendar, sla, teams
from hxpulse.cases.announce import announce
from hxpulse.cases.service import _body, _change, entry, get, settle
from hxpulse.config import Settings
from hxpulse.customers.models import Identity
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest_in
from hxpulse.outbox.service import Action, enqueue

identities_t = cast(Table, Identity.__table__)


def _identity(conn: Connection, customer_id: int) -> list[tuple[str, str]]:
    i = identities_t.c
    row = conn.execute(select(i.kind, i.value).where(i.customer_id == customer_id)
                       .order_by(i.id).limit(1)).first()  # fmt: skip
    return [] if row is None else [(str(row.kind), str(row.value))]


def resolution_event(settings: Settings, case: dict[str, Any], identities: list[tuple[str, str]],
                     now: datetime) -> EventIn:  # fmt: skip
    """The event that records the resolution (`resolution`, or the first resolving type)."""
    types = [t for t, w in settings.pulse.weights.items() if w.resolves]
    properties: dict[str, Any] = {"case_id": case["id"], "reason": case["reason"]}
    if case["resolves"]:
        properties["resolves"] = case["resolves"]
    return EventIn(message_id=f"case-{case['id']}-resolution-{case['resolutions'] + 1}",
                   kind="track", type="resolution" if "resolution" in types else types[0],
                   occurred_at=now, identities=identities, channel=case["channel"] or "other",
                   source="cases", department=case["department"],
                   properties=properties)  # fmt: skip


def resolve(
    conn: Connection,
    settings: Settings,
    *,
    case_id: int,
    who: Who,
    now: datetime,
    message: str | None = None,
    invite: bool = True,
) -> dict[str, Any]:
    """Resolve the case (a resolved or closed one is returned as it is)."""
    case = get(conn, case_id)
    if case["status"] in ("resolved", "closed"):
        return case
    cal = teams.calendar_for(conn, case["team_id"])
    changes: dict[str, Any] = {}
    if case["status"] == "waiting":
        changes |= sla.resume(cal, case, now)
        _change(conn, case_id, changes, now)
    settle(conn, settings, case_id, now)
    case = get(conn, case_id)
    text = _body(message) if message else f"We have resolved your request: {case['reason']}"
    values: dict[str, Any] = {"status": "resolved", "resolved_at": now,
                              "resolutions": case["resolutions"] + 1}  # fmt: skip
    if case["first_responded_at"] is None:  # telling the customer is the first public reply
        values["first_responded_at"] = now
    identities = _identity(conn, case["customer_id"])
    if identities and any(w.resolves for w in settings.pulse.weights.values()):
        ingest_in(conn, [resolution_event(settings, case, identities, now)], now=now,
                  live=settings.live)  # fmt: skip
    _change(conn, case_id, values, now)
    entry(conn, case_id, "status", f"Resolved. {text}", who=who, now=now)
    n = case["resolutions"] + 1
    actions = [Action("notify", f"case:{case_id}:resolved:{n}",
                      {"title": "Your request is resolved", "message": text,
                       "template": "case_resolved",
                       "data": {"case_id": case_id, "status": "resolved"}},
                      customer_id=case["customer_id"], cause=f"case:{case_id}")]  # fmt: skip
    survey = settings.cases.resolve_survey
    if invite and survey:
        invitation = Action(
            "survey.invite",
            f"case:{case_id}:csat:{n}",
            {"survey": survey},
            customer_id=case["customer_id"],
            cause=f"case:{case_id}",
        )
        actions.append(invitation)
    enqueue(conn, actions, now=now)
    audit.record(conn, who=who, action="case.resolve", now=now, subject_kind="case",
                 subject_id=case_id)  # fmt: skip
    made = get(conn, case_id)
    announce(conn, settings.live, "resolved", made, now)
    return made


def reopen(
    conn: Connection, settings: Settings, *, case_id: int, status: str, who: Who, now: datetime
) -> dict[str, Any]:
    """Re-open a resolved or closed case: the resolution clock starts again from now."""
    case = get(conn, case_id)
    cal = teams.calendar_for(conn, case["team_id"])
    _, target = sla.targets(settings.cases, case["priority"], case["channel"])
    was = sla.state(case, "resolution", now)
    due = calendar.add(cal, now, target)
    changes = {"status": status, "resolved_at": None, "closed_at": None, "resolution_due": due,
               "resolution_breached_at": None,
               "waiting_since": now if status == "waiting" else None}  # fmt: skip
    _change(conn, case_id, changes, now)
    entry(conn, case_id, "sla", f"Re-opened ({status.replace('_', ' ')}): the resolution clock "
          f"restarts, due {due.isoformat()} (it was {was})", who=who, now=now)  # fmt: skip
    audit.record(conn, who=who, action="case.reopen", now=now, subject_kind="case",
                 subject_id=case_id, detail={"from": case["status"], "to": status})  # fmt: skip
    made = get(conn, case_id)
    announce(conn, settings.live, "reopened", made, now)
    return made
