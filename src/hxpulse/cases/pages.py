"""HTML pages: the case inbox, one case with the customer beside it, and the Teams page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, Engine
from starlette.responses import Response

from hxpulse import deps
from hxpulse.audit.service import Who
from hxpulse.auth import users
from hxpulse.auth.permissions import Actor
from hxpulse.cases import calendar, service, teams
from hxpulse.cases import resolve as resolving
from hxpulse.cases.context import customer_context
from hxpulse.cases.models import PRIORITIES, STATUSES
from hxpulse.config import Settings
from hxpulse.db.base import parse_id
from hxpulse.db.engine import run_write
from hxpulse.deps import CasesRead, CasesWork, DbId, EngineDep, SettingsDep, TeamsManage
from hxpulse.errors import HXError, Invalid
from hxpulse.web import csrf
from hxpulse.web.render import page
from hxpulse.web.text import checked_form

router = APIRouter()
TABS = ("mine", "team", "all")


def time_left(seconds: float | None, status: str) -> str:
    """`2 h 05 min left`, `late by 15 min`, `paused`, or `done`."""
    if status == "waiting":
        return "paused (waiting on the customer)"
    if seconds is None:
        return "done"
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    text = (f"{days} d " if days else "") + f"{rest // 60} h {rest % 60:02d} min"
    return f"{text} left" if seconds >= 0 else f"late by {text}"


def _labelled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for item in items:
        item["left"] = time_left(item["seconds_left"], item["status"])
    return items


@router.get("/cases")
def inbox(
    request: Request,
    engine: EngineDep,
    actor: CasesRead,
    tab: str | None = Query(None, max_length=10),
    status: str = Query("active", max_length=20),
) -> Response:
    sees_all = actor.can("teams:manage") or not actor.can("cases:work")  # admins, analysts
    tab = tab or ("mine" if actor.can("cases:work") else "all")
    if tab not in TABS or (tab == "all" and not sees_all):
        raise Invalid(f"tab: one of {', '.join(TABS if sees_all else TABS[:2])}")
    wanted = ["open", "in_progress", "waiting"] if status == "active" else [status]
    if status != "active" and status not in STATUSES:
        raise Invalid(f"status: active or one of {', '.join(STATUSES)}")
    now = deps.now(request)
    with engine.connect() as conn:
        mine_teams = teams.team_ids_of(conn, actor.id)
        filters: dict[str, Any] = {"now": now, "statuses": wanted}
        if tab == "mine":
            filters["owner_id"] = actor.id
        elif tab == "team":
            filters["team_ids"] = mine_teams
        items = _labelled(service.list_cases(conn, **filters))
    shown = TABS if sees_all else TABS[:2]
    return page(
        request, "cases.html", items=items, tab=tab, status=status, tabs=shown, statuses=STATUSES
    )


def _case_page(
    request: Request,
    conn: Connection,
    settings: Settings,
    case_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    now = deps.now(request)
    case = service.view(service.get(conn, case_id), now)
    case["left"] = time_left(case["seconds_left"], case["status"])
    agents = [m for t in teams.list_teams(conn) for m in t["members"] if m["active"]]
    return page(
        request,
        "case.html",
        status_code=status_code,
        case=case,
        error=error,
        thread=service.thread(conn, case_id),
        statuses=STATUSES,
        agents=sorted({a["email"] for a in agents}),
        teams=[t["name"] for t in teams.list_teams(conn)],
        context=customer_context(conn, settings, case["customer_id"], now),
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, _actor: CasesRead
) -> Response:
    with engine.connect() as conn:
        return _case_page(request, conn, settings, case_id)


Work = Callable[[Connection, dict[str, str], Who, datetime], Any]


async def _act(
    request: Request, engine: Engine, settings: Settings, actor: Actor, case_id: int, work: Work
) -> Response:
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    fields = {k: str(v) for k, v in form.items()}
    who, now = deps.who(request, actor), deps.now(request)
    try:
        run_write(engine, lambda conn: work(conn, fields, who, now))
    except HXError as exc:
        with engine.connect() as conn:
            return _case_page(request, conn, settings, case_id, exc.message, exc.status_code)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/reply")
async def reply_form(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    return await _act(
        request,
        engine,
        settings,
        actor,
        case_id,
        lambda c, f, who, now: service.reply(
            c, settings, case_id=case_id, body=f.get("body", ""), who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/note")
async def note_form(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    return await _act(
        request,
        engine,
        settings,
        actor,
        case_id,
        lambda c, f, who, now: service.note(
            c, case_id=case_id, body=f.get("body", ""), who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/status")
async def status_form(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    return await _act(
        request,
        engine,
        settings,
        actor,
        case_id,
        lambda c, f, who, now: service.set_status(
            c, settings, case_id=case_id, status=f.get("status", ""), who=who, now=now
        ),
    )


@router.post("/cases/{case_id}/assign")
async def assign_form(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    return await _act(
        request,
        engine,
        settings,
        actor,
        case_id,
        lambda c, f, who, now: service.assign(
            c,
            settings,
            case_id=case_id,
            owner=f.get("owner") or None,
            team=f.get("team") or None,
            who=who,
            now=now,
        ),
    )


@router.post("/cases/{case_id}/resolve")
async def resolve_form(
    request: Request, case_id: DbId, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    return await _act(
        request,
        engine,
        settings,
        actor,
        case_id,
        lambda c, f, who, now: resolving.resolve(
            c, settings, case_id=case_id, who=who, now=now, message=f.get("message") or None
        ),
    )


@router.post("/cases")
async def open_form(
    request: Request, engine: EngineDep, settings: SettingsDep, actor: CasesWork
) -> Response:
    """Open a case from the customer page."""
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    customer_id = parse_id(str(form.get("customer_id", "")))
    if customer_id is None:
        raise Invalid("customer_id: not a customer id")
    priority = str(form.get("priority") or "") or None
    if priority is not None and priority not in PRIORITIES:
        raise Invalid(f"priority: one of {', '.join(PRIORITIES)}")
    who, now = deps.who(request, actor), deps.now(request)
    token = str(form.get("csrf_token", ""))[:16]
    made, _ = run_write(
        engine,
        lambda conn: service.create(
            conn,
            settings,
            customer_id=customer_id,
            reason=str(form.get("reason", "")),
            source_key=f"page:{actor.id}:{token}:{now.isoformat()}",
            priority=priority,
            team=str(form.get("team") or "") or None,
            who=who,
            now=now,
        ),
    )
    return RedirectResponse(f"/cases/{made['id']}", status_code=303)


# ---------------------------------------------------------------- the Teams page


def _teams_page(
    request: Request, engine: Engine, error: str | None = None, status_code: int = 200
) -> Response:
    with engine.connect() as conn:
        items = teams.list_teams(conn)
        people = [
            u
            for u in users.list_users(conn, now=deps.now(request))
            if u["role"] in teams.AGENT_ROLES and u["active"]
        ]
    return page(
        request, "teams.html", status_code=status_code, items=items, error=error, people=people
    )


@router.get("/admin/teams")
def teams_page(request: Request, engine: EngineDep, _actor: TeamsManage) -> Response:
    return _teams_page(request, engine)


async def _team_act(
    request: Request,
    engine: Engine,
    actor: Actor,
    work: Callable[[Connection, dict[str, str], Who, datetime], Any],
) -> Response:
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    fields = {k: str(v) for k, v in form.items()}
    who, now = deps.who(request, actor), deps.now(request)
    try:
        run_write(engine, lambda conn: work(conn, fields, who, now))
    except (HXError, ValueError) as exc:
        message = exc.message if isinstance(exc, HXError) else str(exc)
        return _teams_page(request, engine, message, getattr(exc, "status_code", 400))
    return RedirectResponse("/admin/teams", status_code=303)


def _calendar_fields(f: dict[str, str]) -> dict[str, Any]:
    closed = [d for d in f.get("closed", "").replace(",", " ").split() if d]
    return {
        "zone": f.get("zone") or "UTC",
        "hours": calendar.parse_hours(f.get("hours", "")),
        "country": f.get("country") or None,
        "subdivision": f.get("subdivision") or None,
        "closed": closed,
    }


@router.post("/admin/teams")
async def create_team_form(request: Request, engine: EngineDep, actor: TeamsManage) -> Response:
    return await _team_act(
        request,
        engine,
        actor,
        lambda c, f, who, now: teams.create(
            c, name=f.get("name", ""), now=now, who=who, **_calendar_fields(f)
        ),
    )


@router.post("/admin/teams/{team_id}/hours")
async def hours_form(
    request: Request, team_id: DbId, engine: EngineDep, actor: TeamsManage
) -> Response:
    return await _team_act(
        request,
        engine,
        actor,
        lambda c, f, who, now: teams.set_hours(
            c, team_id=team_id, now=now, who=who, **_calendar_fields(f)
        ),
    )


@router.post("/admin/teams/{team_id}/members")
async def member_form(
    request: Request, team_id: DbId, engine: EngineDep, actor: TeamsManage
) -> Response:
    def work(c: Connection, f: dict[str, str], who: Who, now: datetime) -> Any:
        user_id = int(users.find(c, f.get("user", ""))["id"])
        if f.get("active", "1") == "1":
            return teams.add_member(c, team_id=team_id, user_id=user_id, now=now, who=who)
        return teams.set_member_active(
            c, team_id=team_id, user_id=user_id, active=False, now=now, who=who
        )

    return await _team_act(request, engine, actor, work)
