"""Cases: open (by a person, the API or the `case.open` action), read, reply, note, change
status, reassign. Resolving is `cases.resolve`; SLA maths is `cases.sla`. Every function takes
`now` and works in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, or_, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.auth.models import User
from hxpulse.cases import sla, teams
from hxpulse.cases.announce import announce
from hxpulse.cases.models import ACTIVE, PRIORITIES, STATUSES, Case, CaseEntry
from hxpulse.config import Settings
from hxpulse.customers.models import Customer
from hxpulse.db.base import parse_id
from hxpulse.errors import Invalid, NotFound
from hxpulse.events.models import CHANNELS, Event
from hxpulse.outbox.service import Action, enqueue
from hxpulse.pulse.models import PulseNegative

cases_t = cast(Table, Case.__table__)
entries_t = cast(Table, CaseEntry.__table__)
users_t = cast(Table, User.__table__)
customers_t = cast(Table, Customer.__table__)
events_t = cast(Table, Event.__table__)
negatives_t = cast(Table, PulseNegative.__table__)


def _bad(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _user(conn: Connection, ref: str | int) -> dict[str, Any]:
    """An agent by email or id, who may work cases."""
    u = users_t.c
    text = str(ref).strip()
    user_id = parse_id(text)
    where = u.id == user_id if user_id is not None else u.email == text.lower()
    row = conn.execute(select(u.id, u.email, u.role, u.active).where(where)).first()
    if row is None:
        raise _bad("owner", f"there is no user {text!r}")
    if row.role not in teams.AGENT_ROLES or not row.active:
        raise _bad("owner", f"{row.email} cannot work cases (role {row.role})")
    return dict(row._mapping)


def entry(
    conn: Connection, case_id: int, kind: str, body: str, *, who: Who = SYSTEM, now: datetime
) -> int:
    """Append one entry to the case's thread and timeline; return its id."""
    entry_id: int = conn.execute(
        insert(entries_t).returning(entries_t.c.id),
        {"case_id": case_id, "kind": kind, "body": body, "at": now,
         "author_id": who.id if who.kind == "user" else None, "author": who.label},
    ).scalar_one()  # fmt: skip
    return entry_id


def _source(conn: Connection, customer_id: int, message_id: str | None) -> dict[str, Any]:
    """The source event's channel and department, and whether it is an open negative."""
    if not message_id:
        return {}
    e, n = events_t.c, negatives_t.c
    row = conn.execute(select(e.channel, e.department).where(e.message_id == message_id)).first()
    found = dict(row._mapping) if row else {}
    negative = conn.execute(select(n.id).where(n.message_id == message_id,
                                               n.customer_id == customer_id)).first()  # fmt: skip
    found["negative"] = negative is not None
    return found


def create(
    conn: Connection,
    settings: Settings,
    *,
    customer_id: int,
    reason: str,
    source_key: str,
    now: datetime,
    source_event: str | None = None,
    priority: str | None = None,
    team: str | None = None,
    department: str | None = None,
    channel: str | None = None,
    owner: str | int | None = None,
    who: Who = SYSTEM,
) -> tuple[dict[str, Any], bool]:
    """Open a case, or return the one `source_key` already opened: (case, created).

    Owner: `owner` (an agent's email or id), else round-robin among the team's active agents
    (if on), else none. Team: `team` (a name), else `[cases] default_team`, else none (24/7).
    """
    known = conn.execute(select(cases_t.c.id).where(cases_t.c.source_key == source_key)).first()
    if known is not None:
        return get(conn, known.id), False
    config = settings.cases
    reason = reason.strip()
    if not reason or len(reason) > 400:
        raise _bad("reason", "1 to 400 characters")
    priority = priority or config.default_priority
    if priority not in PRIORITIES:
        raise _bad("priority", f"{priority!r} is not one of {', '.join(PRIORITIES)}")
    if (
        conn.execute(select(customers_t.c.id).where(customers_t.c.id == customer_id)).first()
        is None
    ):
        raise NotFound(f"there is no customer {customer_id}")
    source = _source(conn, customer_id, source_event)
    channel = channel or source.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise _bad("channel", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    team_id = None
    if team or config.default_team:
        team_id = int(teams.find(conn, str(team or config.default_team))["id"])
    owner_id = int(_user(conn, owner)["id"]) if owner not in (None, "") else None
    if owner_id is not None and team_id is not None:
        teams.stamp_assigned(conn, team_id=team_id, user_id=owner_id, now=now)
    elif owner_id is None and team_id is not None and config.round_robin:
        owner_id = teams.next_agent(conn, team_id, now)
    first_due, resolution_due = sla.due_times(teams.calendar_for(conn, team_id), config,
                                              priority=priority, channel=channel,
                                              start=now)  # fmt: skip
    values = {
        "customer_id": customer_id, "reason": reason, "source_event": source_event,
        "resolves": source_event if source.get("negative") else None,
        "department": department or source.get("department"), "channel": channel,
        "priority": priority, "status": "open", "team_id": team_id, "owner_id": owner_id,
        "created_at": now, "updated_at": now, "first_response_due": first_due,
        "resolution_due": resolution_due, "next_due_at": min(first_due, resolution_due),
        "paused_seconds": 0.0, "response_paused_seconds": 0.0, "resolutions": 0,
        "source_key": source_key,
    }  # fmt: skip
    case_id: int = conn.execute(insert(cases_t).returning(cases_t.c.id), values).scalar_one()
    opened = f"Opened: {reason}" + (f" (from {source_event})" if source_event else "")
    entry(conn, case_id, "status", opened, who=who, now=now)
    detail = {"customer_id": customer_id, "key": source_key}
    audit.record(conn, who=who, action="case.open", now=now, subject_kind="case",
                 subject_id=case_id, detail=detail)  # fmt: skip
    made = get(conn, case_id)
    announce(conn, settings.live, "opened", made, now)
    if owner_id is not None:
        entry(conn, case_id, "assign", f"Assigned to {made['owner']}", who=who, now=now)
        announce(conn, settings.live, "assigned", made, now)
    return made, True


def _select() -> Any:
    c, u = cases_t.c, users_t.c
    team = teams.teams_t.c
    customer = customers_t.c
    return (
        select(cases_t, u.email.label("owner"), team.name.label("team"),
               customer.name.label("customer_name"))
        .outerjoin(users_t, u.id == c.owner_id)
        .outerjoin(teams.teams_t, team.id == c.team_id)
        .outerjoin(customers_t, customer.id == c.customer_id)
    )  # fmt: skip


def get(conn: Connection, case_id: int) -> dict[str, Any]:
    """One case (without its thread), or 404."""
    row = conn.execute(_select().where(cases_t.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"there is no case {case_id}")
    return dict(row._mapping)


def thread(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's entries, oldest first."""
    rows = conn.execute(select(entries_t).where(entries_t.c.case_id == case_id)
                        .order_by(entries_t.c.at, entries_t.c.id))  # fmt: skip
    return [dict(r._mapping) for r in rows]


def view(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The case with its SLA as people and programs read it (states, time left, breached)."""
    return {
        **case,
        "first_response": sla.state(case, "first_response", now),
        "resolution": sla.state(case, "resolution", now),
        "seconds_left": sla.seconds_left(case, now),
        "breached": case["first_response_breached_at"] is not None
        or case["resolution_breached_at"] is not None,
    }


def list_cases(
    conn: Connection,
    *,
    now: datetime,
    customer_id: int | None = None,
    statuses: list[str] | None = None,
    team_ids: list[int] | None = None,
    owner_id: int | None = None,
    priority: str | None = None,
    breached: bool | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Cases filtered, the next due first (resolved and closed last, newest first)."""
    c = cases_t.c
    query = _select()
    if customer_id is not None:
        query = query.where(c.customer_id == customer_id)
    if statuses:
        query = query.where(c.status.in_(statuses))
    if team_ids is not None:
        query = query.where(c.team_id.in_(team_ids))
    if owner_id is not None:
        query = query.where(c.owner_id == owner_id)
    if priority is not None:
        query = query.where(c.priority == priority)
    if breached is not None:
        either = or_(c.first_response_breached_at.is_not(None),
                     c.resolution_breached_at.is_not(None))  # fmt: skip
        query = query.where(either if breached else ~either)
    query = query.order_by(c.next_due_at.asc().nulls_last(), c.created_at.desc(), c.id.desc())
    rows = conn.execute(query.limit(limit).offset(offset))
    return [view(dict(r._mapping), now) for r in rows]


def _change(conn: Connection, case_id: int, values: dict[str, Any], now: datetime) -> None:
    merged = {**get(conn, case_id), **values}
    values = {**values, "updated_at": now, "next_due_at": sla.next_due(merged)}
    conn.execute(update(cases_t).where(cases_t.c.id == case_id).values(**values))


def settle(conn: Connection, settings: Settings, case_id: int, now: datetime) -> list[str]:
    """Mark the metrics overdue at `now` as breached at their due times (the job does this
    every few seconds; a late fulfilment does it first); return the metrics marked."""
    case = get(conn, case_id)
    found = sla.overdue(case, now)
    if not found:
        return []
    _change(conn, case_id, {f"{m}_breached_at": due for m, due in found.items()}, now)
    for metric, due in found.items():
        name = metric.replace("_", " ")
        entry(conn, case_id, "sla", f"SLA breached: {name} was due {due.isoformat()}", now=due)
    announce(conn, settings.live, "breached", get(conn, case_id), now)
    return list(found)


def reply(
    conn: Connection, settings: Settings, *, case_id: int, body: str, who: Who, now: datetime
) -> dict[str, Any]:
    """A public message to the customer: in the thread, and a `notify` action to their own
    channel; the first one fulfils the first-response SLA (and starts work on an open case)."""
    body = _body(body)
    case = get(conn, case_id)
    if case["first_responded_at"] is None:
        settle(conn, settings, case_id, now)
        changes: dict[str, Any] = {"first_responded_at": now}
        if case["status"] == "open":
            changes["status"] = "in_progress"
        _change(conn, case_id, changes, now)
    entry_id = entry(conn, case_id, "message_out", body, who=who, now=now)
    enqueue(conn, [Action("notify", f"case:{case_id}:message:{entry_id}",
                          {"title": f"About your request: {case['reason'][:100]}", "message": body,
                           "template": "case_reply", "data": {"case_id": case_id, "kind": "reply"}},
                          customer_id=case["customer_id"], cause=f"case:{case_id}")],
            now=now)  # fmt: skip
    audit.record(conn, who=who, action="case.reply", now=now, subject_kind="case",
                 subject_id=case_id)  # fmt: skip
    return get(conn, case_id)


def receive(
    conn: Connection, settings: Settings, *, case_id: int, body: str, who: Who, now: datetime
) -> dict[str, Any]:
    """A message from the customer (their reply by email, chat, …): in the thread; a case
    waiting on them is open again, its clocks resumed."""
    entry(conn, case_id, "message_in", _body(body), who=who, now=now)
    if get(conn, case_id)["status"] == "waiting":
        return set_status(conn, settings, case_id=case_id, status="open", who=who, now=now)
    conn.execute(update(cases_t).where(cases_t.c.id == case_id).values(updated_at=now))
    return get(conn, case_id)


def _body(body: str) -> str:
    body = body.strip()
    if not body or len(body) > 10_000:
        raise _bad("body", "1 to 10,000 characters")
    return body


def note(conn: Connection, *, case_id: int, body: str, who: Who, now: datetime) -> dict[str, Any]:
    """An internal note: the team sees it, the customer does not."""
    get(conn, case_id)
    entry(conn, case_id, "note", _body(body), who=who, now=now)
    conn.execute(update(cases_t).where(cases_t.c.id == case_id).values(updated_at=now))
    return get(conn, case_id)


def assign(
    conn: Connection,
    settings: Settings,
    *,
    case_id: int,
    owner: str | int | None,
    who: Who,
    now: datetime,
    team: str | None = None,
) -> dict[str, Any]:
    """Give the case to an agent (None: nobody), and optionally to another team (the due
    times stay: the customer was promised them)."""
    case = get(conn, case_id)
    changes: dict[str, Any] = {}
    if team:
        changes["team_id"] = int(teams.find(conn, team)["id"])
    owner_id = int(_user(conn, owner)["id"]) if owner not in (None, "") else None
    changes["owner_id"] = owner_id
    team_id = changes.get("team_id", case["team_id"])
    if owner_id is not None and team_id is not None:
        teams.stamp_assigned(conn, team_id=team_id, user_id=owner_id, now=now)
    _change(conn, case_id, changes, now)
    made = get(conn, case_id)
    text = f"Assigned to {made['owner']}" if owner_id else "Unassigned"
    entry(conn, case_id, "assign", text + (f" (team {made['team']})" if team else ""),
          who=who, now=now)  # fmt: skip
    audit.record(conn, who=who, action="case.assign", now=now, subject_kind="case",
                 subject_id=case_id, detail={"owner_id": owner_id, "team_id": team_id})  # fmt: skip
    announce(conn, settings.live, "assigned", made, now)
    return made


def set_status(
    conn: Connection, settings: Settings, *, case_id: int, status: str, who: Who, now: datetime
) -> dict[str, Any]:
    """Move a case to `status`: waiting pauses the clocks, leaving it resumes them, resolved
    is `cases.resolve.resolve`, re-opening restarts the resolution clock."""
    from hxpulse.cases import resolve as resolving  # resolve builds on this module

    if status not in STATUSES:
        raise _bad("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    case = get(conn, case_id)
    previous = case["status"]
    if status == previous:
        return case
    if status == "resolved":
        return resolving.resolve(conn, settings, case_id=case_id, who=who, now=now)
    if previous in ("resolved", "closed") and status != "closed":
        return resolving.reopen(conn, settings, case_id=case_id, status=status, who=who, now=now)
    cal = teams.calendar_for(conn, case["team_id"])
    changes: dict[str, Any] = {"status": status}
    if previous == "waiting":
        changes |= sla.resume(cal, case, now)
    if previous in ACTIVE:
        settle(conn, settings, case_id, now)
    if status == "waiting":
        changes["waiting_since"] = now
    if status == "closed":
        changes["closed_at"] = now
    _change(conn, case_id, changes, now)
    text = f"Status: {previous.replace('_', ' ')} → {status.replace('_', ' ')}"
    if status == "waiting":
        text += " (SLA clocks paused)"
    elif previous == "waiting":
        text += " (SLA clocks resumed)"
    entry(conn, case_id, "status", text, who=who, now=now)
    audit.record(conn, who=who, action="case.status", now=now, subject_kind="case",
                 subject_id=case_id, detail={"from": previous, "to": status})  # fmt: skip
    return get(conn, case_id)
