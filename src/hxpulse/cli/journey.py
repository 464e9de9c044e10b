"""`hxpulse funnel`: the journey funnel: entered, went on, conversion, days to next, now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
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
        str | None, typer.Option("--channel", help="Only entries through this channel.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only entries in this department.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the journey funnel: per stage, who entered it and went on, the days, now."""
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
    rows = []
    for s in result["stages"]:
        conversion = "—" if s["conversion"] is None else f"{100 * s['conversion']:.1f}%"
        median = "—" if s["median_days_to_next"] is None else f"{s['median_days_to_next']:.1f}"
        rows.append((s["label"], f"{s['entered']:,}", f"{s['went_on']:,}", conversion, median,
                     f"{s['current']:,}", f"{s['at_risk']:,}", f"{s['lapsed']:,}"))  # fmt: skip
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    headers = ("stage", "entered", "went\non", "conversion", "days to\nnext", "now", "at\nrisk",
               "lapsed")  # fmt: skip
    for index, header in enumerate(headers):
        widest = max([len(row[index]) for row in rows] + [len(w) for w in header.split()])
        table.add_column(header, justify="right" if index else "left", no_wrap=True,
                         min_width=widest)  # fmt: skip
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print("Entered: a first event or a move up into the stage in the range. Went on: of them,"
              " those who later reached a higher stage. Days to next: the median days that"
              " took.")  # fmt: skip
    now = result["now"]
    out.print(f"Now: {now['customers']:,} customers, {now['at_risk']:,} at risk, "
              f"{now['lapsed']:,} lapsed.")  # fmt: skip
