"""`hxpulse advocacy`: promoters, the ask rate, asks → referrals, reviews and shares."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hxpulse.cli.common import clean_errors, engine, print_json, settings


@clean_errors
def advocacy(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="First day (YYYY-MM-DD); default: all time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day, included (YYYY-MM-DD).")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only this department.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the advocacy report: promoters, ask rate, referrals, reviews, top advocates."""
    from hxpulse.advocacy import report

    filters = report.query(since, until, channel, department)
    config = settings(ctx)
    with engine(ctx).connect() as conn:
        result = report.report(conn, config, filters)
    if as_json:
        print_json(result)
        return
    _show(result)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _show(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    table = Table(title="Advocacy", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in (
        ("promoters", f"{r['promoters']:,}"),
        ("ask rate", f"{_pct(r['ask_rate'])} ({r['asked']:,} asked)"),
        ("asks", f"{r['asks']:,} ({r['asked_customers']:,} customers)"),
        ("referrals", f"{r['referrals']:,} (conversion {_pct(r['conversion'])})"),
        ("asked who referred", f"{r['asked_who_referred']:,} "
                               f"({_pct(r['asked_who_referred_rate'])})"),
        ("referred customers", f"{r['referred_customers']:,}"),
        ("referred revenue", f"{r['referred_revenue']:,.2f}"),
        ("reviews", f"{r['reviews']['total']:,}"),
        ("shares", f"{r['shares']['total']:,}"),
    ):  # fmt: skip
        table.add_row(label, value)
    out.print(table)
    if r["top_advocates"]:
        top = Table(title="Top advocates")
        for name in ("customer", "referrals", "reviews and shares"):
            top.add_column(name, justify="left" if name == "customer" else "right")
        for a in r["top_advocates"]:
            top.add_row(a["name"] or f"Customer {a['customer_id']}", str(a["referrals"]),
                        str(a["reviews_and_shares"]))  # fmt: skip
        out.print(top)
