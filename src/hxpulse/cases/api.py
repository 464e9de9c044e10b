"""JSON routes for cases (`/api/cases`) and teams (`/api/teams`): the twins of the inbox, the
case page and the Teams page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection

from hxpulse import deps
from hxpulse.auth import users
from hxpulse.auth.permissions import Actor
from hxpulse.cases import report, service, teams
from hxpulse.cases import resolve as resolving
from hxpulse.cases.models import PRIORITIES, STATUSES
from hxpulse.cases.schemas import (
    Assignment,
    Body,
    CaseCreate,
    CaseDetail,
    CaseList,
    CaseRead,
    Member,
    Resolution,
    SlaReport,
    StatusChange,
    TeamCreate,
    TeamHours,
    TeamList,
    TeamRead,
)
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import CasesRead, CasesWork, DbId, EngineDep, SettingsDep, TeamsManage
from hxpulse.errors import Invalid

router = APIRouter(prefix="/api", tags=["cases"])
T = TypeVar("T")


def _bad(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def owner_filter(conn: Connection, owner: str | None, actor: Actor) -> int | None:
    """`me` (the signed-in person), an email or an id; None: anyone."""
    if not owner:
        return None
    if owner == "me":
        if actor.kind != "user":
            raise _bad("owner", "`me` needs a signed-in person, not a key")
        return actor.id
    return int(users.find(conn, owner)["id"])


def statuses(value: str | None) -> list[str] | None:
    wanted = [s.strip() for s in (value or "").split(",") if s.strip()]
    for status in wanted:
        if status not in STATUSES:
            raise _bad("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    return wanted or None


@router.get("/cases", response_model=CaseList)
def list_cases(
    request: Request,
    engine: EngineDep,
    actor: CasesRead,
    customer: str | None = Query(None, max_length=400, description="Any identity, or `id:N`."),
    status: str | None = Query(None, max_length=100, description="One or more, comma-separated."),
    team: str | None = Query(None, max_length=100, description="A team's name."),
    owner: str | None = Query(None, max_length=320, description="`me`, an email or a user id."),
    priority: str | None = Query(None, max_length=10),
    breached: bool | None = Query(None, description="Only cases with (or without) a breach."),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    """Cases, the next SLA due first: filter by customer, status, team, owner, priority."""
    if priority is not None and priority not in PRIORITIES:
        raise _bad("priority", f"{priority!r} is not one of {', '.join(PRIORITIES)}")
    with engine.connect() as conn:
        found = service.list_cases(
            conn,
            now=deps.now(request),
            statuses=statuses(status),
            priority=priority,
            customer_id=queries.find(conn, customer) if customer else None,
            team_ids=[int(teams.find(conn, team)["id"])] if team else None,
            owner_id=owner_filter(conn, owner, actor),
            breached=breached,
            limit=limit,
            offset=offset,
        )
    return {"items": found}


@router.post("/cases", status_code=201, response_model=CaseRead)
def create_case(
    body: CaseCreate,
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    actor: CasesWork,
) -> dict[str, Any]:
    """Open a case (201); one with the same `idempotency_key` is answered as it is (200)."""
    who, now = deps.who(request, actor), deps.now(request)
    key = f"api:{body.idempotency_key}" if body.idempotency_key else f"api:{uuid.uuid4().hex}"

    def work(conn: Connection) -> tuple[dict[str, Any], bool]:
        return service.create(
            conn,
            settings,
            customer_id=queries.find(conn, body.customer),
            reason=body.reason,
            source_key=key,
            now=now,
            source_event=body.source_event,
            priority=body.priority,
            team=body.team,
            department=body.department,
            channel=body.channel,
            owner=body.owner,
            who=who,
        )

    made, created = run_write(engine, work)
    if not created:
        response.status_code = 200
    return service.view(made, now)


@router.get("/cases/sla", response_model=SlaReport)
def sla_report(
    request: Request,
    engine: EngineDep,
    _actor: CasesRead,
    since: datetime | None = Query(None, description="Only cases opened since (ISO 8601)."),
    by: Literal["team", "owner"] = Query("team", description="`owner`: per agent too."),
) -> dict[str, Any]:
    """Per team, priority, channel and metric: decided cases, share met, median business time."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with engine.connect() as conn:
        found = report.sla_report(conn, now=deps.now(request), since=since, by_owner=by == "owner")
    return {"items": found}


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: DbId, request: Request, engine: EngineDep, _actor: CasesRead) -> Any:
    """One case with its thread (notes, messages, changes, SLA events)."""
    with engine.connect() as conn:
        return {
            **service.view(service.get(conn, case_id), deps.now(request)),
            "thread": service.thread(conn, case_id),
        }


def _write(
    request: Request,
    engine: Any,
    actor: Actor,
    work: Callable[[Connection, Any, Any], dict[str, Any]],
) -> dict[str, Any]:
    who, now = deps.who(request, actor), deps.now(request)
    return service.view(run_write(engine, lambda conn: work(conn, who, now)), now)


@router.post("/cases/{case_id}/reply", response_model=CaseRead)
def reply(
    case_id: DbId,
    body: Body,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: CasesWork,
) -> dict[str, Any]:
    """Write to the customer (sent on their own channel); the first reply meets the first
    response SLA."""
    return _write(
        request,
        engine,
        actor,
        lambda conn, who, now: service.reply(
            conn, settings, case_id=case_id, body=body.body, who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/note", response_model=CaseRead)
def note(
    case_id: DbId, body: Body, request: Request, engine: EngineDep, actor: CasesWork
) -> dict[str, Any]:
    """Add an internal note (the customer does not see it)."""
    return _write(
        request,
        engine,
        actor,
        lambda conn, who, now: service.note(
            conn, case_id=case_id, body=body.body, who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/status", response_model=CaseRead)
def set_status(
    case_id: DbId,
    body: StatusChange,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: CasesWork,
) -> dict[str, Any]:
    """Change the status: `waiting` pauses the SLA clocks, re-opening restarts resolution."""
    return _write(
        request,
        engine,
        actor,
        lambda conn, who, now: service.set_status(
            conn, settings, case_id=case_id, status=body.status, who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/assign", response_model=CaseRead)
def assign(
    case_id: DbId,
    body: Assignment,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: CasesWork,
) -> dict[str, Any]:
    """Give the case to an agent (null: nobody), and optionally to another team."""
    return _write(
        request,
        engine,
        actor,
        lambda conn, who, now: service.assign(
            conn, settings, case_id=case_id, owner=body.owner, team=body.team, who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/resolve", response_model=CaseRead)
def resolve(
    case_id: DbId,
    body: Resolution,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: CasesWork,
) -> dict[str, Any]:
    """Resolve: tell the customer at once, record the resolution (the pulse lifts the
    complaint's 12x weight), and invite the "did we fix it?" survey if configured."""
    return _write(
        request,
        engine,
        actor,
        lambda conn, who, now: resolving.resolve(
            conn,
            settings,
            case_id=case_id,
            who=who,
            now=now,
            message=body.message,
            invite=body.invite,
        ),
    )


@router.get("/teams", response_model=TeamList)
def list_teams(engine: EngineDep, _actor: CasesRead) -> dict[str, Any]:
    """Every team with its agents and business hours."""
    with engine.connect() as conn:
        return {"items": teams.list_teams(conn)}


@router.post("/teams", status_code=201, response_model=TeamRead)
def create_team(
    body: TeamCreate, request: Request, engine: EngineDep, actor: TeamsManage
) -> dict[str, Any]:
    """Create a team (without `hours`, it works 24/7)."""
    who, now = deps.who(request, actor), deps.now(request)
    return run_write(
        engine,
        lambda conn: teams.create(conn, name=body.name, **_calendar(body), now=now, who=who),
    )


def _calendar(body: TeamCreate) -> dict[str, Any]:
    """The calendar a team's body gives, as `teams.create` and `teams.set_hours` take it."""
    return {"zone": body.zone, "hours": body.hours, "country": body.holiday_country,
            "subdivision": body.holiday_subdivision, "closed": body.closed_dates}  # fmt: skip


@router.put("/teams/{team_id}/hours", response_model=TeamRead)
def set_hours(
    team_id: DbId, body: TeamHours, request: Request, engine: EngineDep, actor: TeamsManage
) -> dict[str, Any]:
    """Replace the team's calendar: zone, windows per weekday, holidays, closed dates."""
    who, now = deps.who(request, actor), deps.now(request)
    return run_write(
        engine,
        lambda conn: teams.set_hours(conn, team_id=team_id, **_calendar(body), now=now, who=who),
    )


@router.post("/teams/{team_id}/members", response_model=TeamRead)
def add_member(
    team_id: DbId, body: Member, request: Request, engine: EngineDep, actor: TeamsManage
) -> dict[str, Any]:
    """Add an agent to the team, or take them out of (`active: false`) its round-robin."""
    who, now = deps.who(request, actor), deps.now(request)

    def work(conn: Connection) -> dict[str, Any]:
        user_id = int(users.find(conn, body.user)["id"])
        if body.active:
            return teams.add_member(conn, team_id=team_id, user_id=user_id, now=now, who=who)
        return teams.set_member_active(
            conn, team_id=team_id, user_id=user_id, active=False, now=now, who=who
        )

    return run_write(engine, work)
