"""`hxpulse cases` (the case list, resolve) and `hxpulse teams` (create, add, list, hours)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.audit.who import Who
from hxpulse.cli.common import clean_errors, engine, print_json, settings
from hxpulse.errors import Invalid

app = typer.Typer(help="Cases: the list by SLA due, and resolving one.",
                  invoke_without_command=True)  # fmt: skip
teams_app = typer.Typer(help="Teams of agents and their business hours.", no_args_is_help=True)
out = Console(highlight=False)
CLI = Who("system", None, "cli")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.callback()
@clean_errors
def cases(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    status: Annotated[str | None, typer.Option(help="Only this status (open, …).")] = None,
    customer: Annotated[str | None, typer.Option(help="Any identity, or id:N.")] = None,
) -> None:
    """List cases, the next SLA due first, with the time left."""
    if ctx.invoked_subcommand is not None:
        return
    from hxpulse.cases import service
    from hxpulse.cases.pages import time_left
    from hxpulse.customers import queries

    now = datetime.now(UTC)
    with engine(ctx).connect() as conn:
        found = service.list_cases(
            conn, now=now, statuses=[status] if status else None,
            customer_id=queries.find(conn, customer) if customer else None,
        )  # fmt: skip
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("No cases.")
        return
    table = Table(title="Cases")
    for name in ("id", "status", "priority", "reason", "customer", "team", "owner", "SLA"):
        table.add_column(name, justify="right" if name == "id" else "left")
    for c in found:
        left = time_left(c["seconds_left"], c["status"]) + (" (breached)" if c["breached"] else "")
        table.add_row(str(c["id"]), c["status"], c["priority"], c["reason"],
                      str(c["customer_id"]), c["team"] or "", c["owner"] or "", left)  # fmt: skip
    out.print(table)


@app.command("resolve")
@clean_errors
def resolve(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case's id.", min=1)],
    message: Annotated[str | None, typer.Option(help="What to tell the customer.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Resolve a case: the customer is told, the pulse lifts the complaint."""
    from hxpulse.cases import resolve as resolving
    from hxpulse.db.engine import run_write

    config = settings(ctx)
    made = run_write(
        engine(ctx),
        lambda conn: resolving.resolve(
            conn, config, case_id=case_id, who=CLI, now=datetime.now(UTC), message=message
        ),
    )
    if as_json:
        print_json(made)
        return
    out.print(f"Case {case_id} is {made['status']}.")


@app.command("sla")
@clean_errors
def sla(
    ctx: typer.Context,
    by_owner: Annotated[bool, typer.Option("--by-owner", help="Per agent too.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The SLA report: per team, priority, channel and metric, share met and median time."""
    from hxpulse.cases import report

    with engine(ctx).connect() as conn:
        rows = report.sla_report(conn, now=datetime.now(UTC), by_owner=by_owner)
    if as_json:
        print_json(rows)
        return
    table = Table(title="SLAs (business time)")
    for name in ("team", "owner", "priority", "channel", "metric", "cases", "met", "median"):
        table.add_column(name, justify="right" if name in ("cases", "met", "median") else "left")
    for r in rows:
        median = "—" if r["median_seconds"] is None else f"{r['median_seconds'] / 60:.0f} min"
        table.add_row(r["team"] or "", r["owner"] or "", r["priority"], r["channel"] or "",
                      r["metric"].replace("_", " "), str(r["count"]),
                      f"{100 * r['share_met']:.0f}%", median)  # fmt: skip
    out.print(table)


def _hours(text: str) -> dict[str, list[list[str]]]:
    from hxpulse.cases import calendar

    try:
        return calendar.parse_hours(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _show(team: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(team)
        return
    members = ", ".join(m["email"] + ("" if m["active"] else " (out)") for m in team["members"])
    out.print(f"{team['name']} ({team['zone']}): {team['hours_text']}"
              + (f"; holidays {team['holiday_country']}" if team["holiday_country"] else "")
              + f"; agents: {members or 'none'}")  # fmt: skip


HoursOpt = Annotated[str, typer.Option(help="E.g. 'mon-fri 09:00-12:00 13:00-17:00' (none: 24/7).")]
ZoneOpt = Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")]
CountryOpt = Annotated[str | None, typer.Option(help="Public holidays of this country (DE).")]
SubdivisionOpt = Annotated[str | None, typer.Option(help="… and subdivision (BY).")]
ClosedOpt = Annotated[list[str] | None, typer.Option("--closed", help="Extra closed date.")]


@teams_app.command("create")
@clean_errors
def create_team(
    ctx: typer.Context,
    name: str,
    zone: ZoneOpt = "UTC",
    hours: HoursOpt = "",
    country: CountryOpt = None,
    subdivision: SubdivisionOpt = None,
    closed: ClosedOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a team with its business hours."""
    from hxpulse.cases import teams
    from hxpulse.db.engine import run_write

    made = run_write(engine(ctx), lambda conn: teams.create(
        conn, name=name, zone=zone, hours=_hours(hours), country=country,
        subdivision=subdivision, closed=closed or [], now=datetime.now(UTC), who=CLI))  # fmt: skip
    _show(made, as_json)


@teams_app.command("hours")
@clean_errors
def set_hours(
    ctx: typer.Context,
    team: str,
    hours: HoursOpt = "",
    zone: ZoneOpt = "UTC",
    country: CountryOpt = None,
    subdivision: SubdivisionOpt = None,
    closed: ClosedOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace a team's calendar."""
    from hxpulse.cases import teams
    from hxpulse.db.engine import run_write

    def work(conn: Any) -> dict[str, Any]:
        found = teams.find(conn, team)
        return teams.set_hours(conn, team_id=found["id"], zone=zone, hours=_hours(hours),
                               country=country, subdivision=subdivision, closed=closed or [],
                               now=datetime.now(UTC), who=CLI)  # fmt: skip

    _show(run_write(engine(ctx), work), as_json)


@teams_app.command("add")
@clean_errors
def add_member(
    ctx: typer.Context,
    team: str,
    user: Annotated[str, typer.Argument(help="The agent's email or id.")],
    as_json: JsonFlag = False,
) -> None:
    """Add an agent to a team (round-robin gives them cases)."""
    from hxpulse.auth import users
    from hxpulse.cases import teams
    from hxpulse.db.engine import run_write

    def work(conn: Any) -> dict[str, Any]:
        found, person = teams.find(conn, team), users.find(conn, user)
        return teams.add_member(conn, team_id=found["id"], user_id=person["id"],
                                now=datetime.now(UTC), who=CLI)  # fmt: skip

    _show(run_write(engine(ctx), work), as_json)


@teams_app.command("list")
@clean_errors
def list_teams(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List teams with their hours and agents."""
    from hxpulse.cases import teams

    with engine(ctx).connect() as conn:
        found = teams.list_teams(conn)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("No teams yet: hxpulse teams create NAME --hours 'mon-fri 09:00-17:00'")
    for team in found:
        _show(team, False)
