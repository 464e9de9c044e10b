"""`hxpulse worker` (a dispatcher in its own process) and `hxpulse deliveries`."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings
from hxpulse.cli.people import CLI


@clean_errors
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Deliveries under way at once (default: outbox.concurrency).", min=1),
    ] = None,
) -> None:
    """Deliver the outbox (webhooks, emails, …) until SIGTERM or SIGINT; run as many as you
    like on PostgreSQL."""
    import logging

    from hxpulse.outbox.dispatcher import Dispatcher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    built = engine(ctx)
    dispatcher = Dispatcher(built, settings(ctx), concurrency=concurrency)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        console.print(f"Stopping on {signal.Signals(signum).name}: finishing deliveries under way.")
        dispatcher.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    console.print(f"Worker delivering the outbox, {dispatcher.concurrency} at once.")
    dispatcher.run()
    dispatcher.stop()
    console.print("Worker stopped.")


@clean_errors
def deliveries(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, done or dead.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (webhook, email, …).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
    replay: Annotated[
        bool, typer.Option("--replay", help="Replay the dead (or --status) ones listed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List outbox deliveries (newest first), or replay them with --replay."""
    from hxpulse.db.engine import run_write
    from hxpulse.outbox import queries
    from hxpulse.outbox import service as outbox

    built = engine(ctx)
    filters = queries.Filters(status=status or ("dead" if replay else None), kind=kind)
    if replay:
        now = datetime.now(UTC)
        count = run_write(built, lambda conn: outbox.replay(
            conn, queries.ids(conn, filters), now=now, who=CLI))  # fmt: skip
        console.print(f"Replayed {count} deliveries.")
        return
    with built.connect() as conn:
        rows = queries.deliveries(conn, filters, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "kind", "key", "status", "tries", "created", "last answer")
    for row in rows:
        last = f"{row['last_status'] or ''} {(row['last_response'] or '')[:60]}".strip()
        table.add_row(str(row["id"]), row["kind"], row["key"][:40], row["status"],
                      str(row["attempts"]), f"{row['created_at']:%Y-%m-%d %H:%M:%S}",
                      escape(last))  # fmt: skip
    console.print(table)
