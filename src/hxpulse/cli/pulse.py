"""`hxpulse pulse`: one customer's pulse explained, the at-risk list, unmapped types, rebuild."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings
from hxpulse.errors import Invalid

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hxpulse.config import Live

out = Console(highlight=False)


@clean_errors
def pulse(
    ctx: typer.Context,
    customer: Annotated[
        str | None,
        typer.Argument(
            help="Any identity (email, user id, phone, ...; kind:value names the kind) or id:N for"
            " the internal id N (a bare number is an internal id only when no identity matches)."
        ),
    ] = None,
    at_risk: Annotated[
        int | None,
        typer.Option("--at-risk", help="List N at-risk customers now (or --as-of), with why."),
    ] = None,
    unmapped: Annotated[
        bool, typer.Option("--unmapped", help="List event types that have no weight.")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Recompute every pulse from the event log.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The pulse as of a day (its end) or an ISO 8601 moment,"
            " 1970-01-01 to now + 1 day (CUSTOMER, --at-risk).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Explain one customer's pulse, or list who is at risk, unmapped types, or rebuild."""
    from hxpulse.customers import queries
    from hxpulse.pulse import service
    from hxpulse.pulse.asof import parse_as_of

    chosen = [customer is not None, at_risk is not None, unmapped, rebuild]
    if sum(chosen) != 1:
        raise Invalid("give exactly one of: CUSTOMER, --at-risk N, --unmapped, --rebuild")
    now = datetime.now(UTC)
    moment = parse_as_of(as_of, now=now, field="--as-of")
    if moment is not None and (unmapped or rebuild):
        raise Invalid("--as-of goes with CUSTOMER or --at-risk N")
    if at_risk is not None and not 1 <= at_risk <= 100_000:
        raise Invalid("--at-risk takes a number from 1 to 100000")
    config = settings(ctx)
    built = engine(ctx, check_pulse=not rebuild)  # a rebuild is what fixes a changed half-life
    if rebuild:
        _rebuild(built, config.live, now, as_json)
        return
    with built.connect() as conn:
        if at_risk is not None:
            from hxpulse.pulse import bands

            found_list = _as_of_option(lambda: bands.at_risk_list(
                conn, config.live, now, limit=at_risk, as_of=moment))  # fmt: skip
            _show_at_risk(found_list, moment, as_json)
        elif unmapped:
            _show_unmapped(service.unmapped(conn, config.pulse), as_json)
        else:
            assert customer is not None
            found = service.explain(conn, config.live, customer_id=queries.find(conn, customer),
                                    now=now, as_of=moment)  # fmt: skip
            _show_customer(found, moment is not None, as_json)


def _as_of_option(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Name the CLI option in the service's as_of error."""
    try:
        return read()
    except Invalid as exc:
        raise Invalid(exc.message.replace("as_of:", "--as-of:", 1)) from None


def _rebuild(built: Engine, live: Live, now: datetime, as_json: bool) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )
    from sqlalchemy import func, select

    from hxpulse.events.service import events_t
    from hxpulse.journey import rebuild as journey
    from hxpulse.pulse.rebuild import rebuild as rebuild_pulse

    with built.connect() as conn:
        total = conn.execute(select(func.count()).select_from(events_t)).scalar_one()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=as_json) as bar:
        task = bar.add_task("pulse from events", total=total)
        done = rebuild_pulse(built, live, now=now, progress=lambda n: bar.advance(task, n))
        stages = bar.add_task("journey stages", total=done["customers"])
        with built.begin() as conn:
            journey.rebuild(conn, live, progress=lambda n: bar.advance(stages, n))
    if as_json:
        print_json(done)
        return
    out.print(f"Rebuilt the pulse and stage of {done['customers']:,} customers "
              f"from {done['events']:,} events.")  # fmt: skip


def _show_customer(found: dict[str, Any], dated: bool, as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    overlays = [name for name in ("at_risk", "lapsed") if found[name]]
    trend = f"{found['trend']:+.1f} over {found['trend_days']} days"
    when = f" as of {found['as_of']:%Y-%m-%d %H:%M} UTC" if dated else ""
    out.print(f"Customer {found['customer_id']}{when}: pulse [bold]{found['pulse']:.1f}[/bold] "
              f"({found['band']}), {trend}")  # fmt: skip
    out.print(f"  = investments {found['investments']:.1f} + returns {found['returns']:.1f}"
              f" - decay {found['decay']:.1f}")  # fmt: skip
    out.print(f"  stage: {found['stage']}" + (f" ({', '.join(overlays)})" if overlays else ""))
    table = Table(title="Events that count most now")
    for name in ("when", "type", "component", "weight", "counts now"):
        table.add_column(name, justify="right" if name in ("weight", "counts now") else "left")
    for event in found["top_events"]:
        table.add_row(f"{event['occurred_at']:%Y-%m-%d}", event["type"], event["component"],
                      f"{event['weight']:.1f}", f"{event['now']:.2f}")  # fmt: skip
    out.print(table)


def _show_at_risk(found: dict[str, Any], moment: datetime | None, as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    items = found["items"]
    when = "now" if moment is None else f"as of {moment:%Y-%m-%d %H:%M} UTC"
    table = Table(title=f"{len(items):,} of {found['total']:,} customers at risk {when},"
                        " most to lose first")  # fmt: skip
    for name in ("customer", "name", "pulse", "stage", "why"):
        table.add_column(name, justify="right" if name == "pulse" else "left")
    for item in items:
        why = "; ".join(item["reasons"])
        table.add_row(str(item["customer_id"]), escape(item["name"] or ""),
                      f"{item['pulse']:.1f}", item["stage"], why)  # fmt: skip
    out.print(table)


def _show_unmapped(items: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(items)
        return
    if not items:
        out.print("Every event type in the log has a weight.")
        return
    table = Table(title="Event types without a weight (they count zero)")
    table.add_column("type")
    table.add_column("events", justify="right")
    for item in items:
        table.add_row(item["type"], f"{item['events']:,}")
    out.print(table)
    out.print(escape("Give them a weight under [pulse.weights] in hxpulse.toml, then run "
                     "hxpulse pulse --rebuild."))  # fmt: skip
