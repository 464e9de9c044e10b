"""`hxpulse offers CUSTOMER` (a customer's next best offers) and `hxpulse fit offers`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings


@clean_errors
def offers(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="An identity of the customer, or id:N.")],
    context: Annotated[
        str | None, typer.Option("--context", help="The latest event's type, or an item.")
    ] = None,
    n: Annotated[int | None, typer.Option("--n", min=1, max=20, help="How many.")] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Log them as shown (exposures, offer_shown events).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a customer's next best offers, each with its score, reason and arm."""
    from hxpulse.customers import queries
    from hxpulse.db.engine import run_write
    from hxpulse.offers import service

    config = settings(ctx)
    built = engine(ctx)
    now = datetime.now(UTC)
    with built.begin() as conn:
        service.sync_catalogue(conn, config.offers, now=now)

    def work(conn: Any) -> dict[str, Any]:
        found = queries.find(conn, customer)
        return service.recommend(conn, config, found, now=now, context=context, n=n,
                                 record=record)  # fmt: skip

    result = run_write(built, work)
    if as_json:
        print_json(result)
        return
    _show(result)


def _show(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    table = Table(title=f"Next best offers for customer {r['customer_id']} ({r['arm']} arm,"
                        f" segment {r['segment']})")  # fmt: skip
    for name in ("offer", "score", "reason"):
        table.add_column(name, justify="right" if name == "score" else "left")
    for o in r["offers"]:
        score = "—" if o["score"] is None else f"{o['score']:.3f}"
        table.add_row(f"{o['name']} ({o['key']})", score, o["reason"])
    out.print(table)
    if not r["offers"]:
        out.print("No offer is eligible for this customer now.")


@clean_errors
def fit_offers(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option("--seed", help="The fit's random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was stored as JSON.")] = False,
) -> None:
    """Fit the offers model on the event log (purchases and events naming an item)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from hxpulse.offers import fitting

    config = settings(ctx)
    built = engine(ctx)
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  console=console, transient=True) as bar:  # fmt: skip
        tasks: dict[str, Any] = {}

        def progress(stage: str, share: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=share)

        result = fitting.fit(built, config, now=datetime.now(UTC), seed=seed, progress=progress)
    if as_json:
        print_json(result)
        return
    console.print(f"Fitted the offers model: {result['interactions']:,} interactions of"
                  f" {result['customers']:,} customers with {result['items']:,} items.",
                  highlight=False)  # fmt: skip
