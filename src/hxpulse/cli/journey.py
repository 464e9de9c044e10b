"""`hxpulse funnel`: the journey funnel: reached, conversion, median days in stage, now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.cli.common import clean_errors, engine, print_json, settings

out = Console(highlight=False)


@clean_errors
def funnel(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--start", help="First day (YYYY-MM-DD); default: all time.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day, included (YYYY-MM-DD).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Only moves through this channel.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only moves in this department.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the journey funnel: per stage, who reached it, conversion, days in stage, now."""
    from hxpulse.journey import funnel as funnels

    query = funnels.funnel_query(start, end, channel, department)
    config = settings(ctx)
    with engine(ctx).connect() as conn:
        result = funnels.funnel(conn, config.live, start=query.start, end=query.end,
                                channel=query.channel, department=query.department,
                                now=datetime.now(UTC))  # fmt: skip
    if as_json:
        print_json(result)
        return
    _show(result)


def _show(result: dict[str, Any]) -> None:
    scope = [f"from {result['start']:%Y-%m-%d %H:%M}" if result["start"] else "",
             f"until {result['end']:%Y-%m-%d %H:%M} (excluded)" if result["end"] else "",
             f"channel {result['channel']}" if result["channel"] else "",
             f"department {result['department']}" if result["department"] else ""]  # fmt: skip
    title = "Journey funnel" + (f" ({', '.join(p for p in scope if p)})" if any(scope) else "")
    table = Table(title=title)
    table.add_column("stage")
    for name in ("reached", "conversion", "median days in stage", "now", "at risk", "lapsed"):
        table.add_column(name, justify="right")
    for s in result["stages"]:
        conversion = "—" if s["conversion"] is None else f"{100 * s['conversion']:.1f}%"
        median = "—" if s["median_days_in_stage"] is None else f"{s['median_days_in_stage']:.1f}"
        table.add_row(s["label"], f"{s['reached']:,}", conversion, median, f"{s['current']:,}",
                      f"{s['at_risk']:,}", f"{s['lapsed']:,}")  # fmt: skip
    out.print(table)
    now = result["now"]
    out.print(f"Now: {now['customers']:,} customers, {now['at_risk']:,} at risk, "
              f"{now['lapsed']:,} lapsed.")  # fmt: skip
