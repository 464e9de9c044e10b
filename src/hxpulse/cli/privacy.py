"""`hxpulse export`, `hxpulse erase` and `hxpulse audit`: customers' data and who touched it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.audit.who import Who
from hxpulse.cli.common import clean_errors, console, engine, print_json
from hxpulse.errors import Invalid

out = Console(highlight=False)
CustomerArg = Annotated[
    str, typer.Argument(help="Any identity (email, user id, phone, ...) or id:N for the id.")
]


def operator() -> Who:
    """The audit log's name for whoever runs the command on the server."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Who("system", None, f"command line ({name})"[:400])


@clean_errors
def export(
    ctx: typer.Context,
    customer: CustomerArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Export everything held about a customer as one JSON document (audited)."""
    import orjson

    from hxpulse.customers import queries
    from hxpulse.privacy import service

    built = engine(ctx)
    with built.connect() as conn:
        customer_id = queries.find(conn, customer)
    doc = service.export(built, customer_id, who=operator(), now=datetime.now(UTC), via="cli")
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)
    if output is None:
        print(data.decode())
        return
    output.write_bytes(data + b"\n")
    console.print(f"Wrote customer {doc['customer_id']}'s data to {output}", highlight=False)


@clean_errors
def erase(
    ctx: typer.Context,
    customer: CustomerArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Erase a customer's personal data, keep anonymous counts, tombstone their identities."""
    from hxpulse.customers import queries
    from hxpulse.db.engine import run_write
    from hxpulse.privacy import service

    built = engine(ctx)
    with built.connect() as conn:
        customer_id = queries.find(conn, customer)
        seen = service.preview(conn, customer_id)
    if not yes:
        counts = {k: v for k, v in seen.items() if k not in ("customer_id", "text_model_dropped")}
        what = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
        if seen["text_model_dropped"]:
            what += "; the fitted text model (it may hold their words) will be deleted"
        console.print(f"Customer {seen['customer_id']}: {what}.", highlight=False)
        if not typer.confirm("Erase their personal data? This cannot be undone"):
            console.print("Nothing erased.")
            raise typer.Exit(1)
    who, now = operator(), datetime.now(UTC)
    done = run_write(built, lambda conn: service.erase(conn, customer_id, who=who, now=now))
    if as_json:
        print_json(done)
        return
    console.print(
        f"Erased customer {done['customer_id']}: {done['identities']} identities tombstoned, "
        f"{done['events']} events and {done['survey_answers']} survey answers emptied, "
        f"{done['merged_profiles']} merged profiles, {done['model_rows']} offers model rows."
        + (" The text model was deleted: VADER scores whys until `hxpulse fit text`."
           if done["text_model_dropped"] else ""),
        highlight=False,
    )  # fmt: skip


@clean_errors
def audit(
    ctx: typer.Context,
    action: Annotated[
        str | None, typer.Option("--action", help="customer.view, or a prefix: customer.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only entries about this customer.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="user:ID, key:ID, customer or system.")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day, included.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most N entries, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who saw, exported, erased or changed customers' data, newest first."""
    from hxpulse.audit import query
    from hxpulse.customers import queries

    built = engine(ctx)
    with built.connect() as conn:
        customer_id = queries.find(conn, customer) if customer else None
        if not 1 <= limit <= query.MAX_LIMIT:
            raise Invalid(f"--limit takes a number from 1 to {query.MAX_LIMIT}")
        chosen = query.parse(action=action, actor=actor, customer_id=customer_id, since=since,
                             until=until, limit=limit)  # fmt: skip
        items = query.read(conn, chosen)["items"]
    if as_json:
        print_json(items)
        return
    _show(items)


def _show(items: list[dict[str, Any]]) -> None:
    if not items:
        console.print("No entries match.")
        return
    table = Table()
    for title in ("when (UTC)", "action"):
        table.add_column(title, no_wrap=True)
    for title in ("who", "from", "customer", "detail"):
        table.add_column(title)
    for e in items:
        detail = ", ".join(f"{k}: {v}" for k, v in (e["detail"] or {}).items())
        subject = e["subject_id"] if e["subject_kind"] == "customer" else (e["subject_id"] or "")
        table.add_row(e["at"].strftime("%Y-%m-%d %H:%M"), e["action"], e["actor_label"],
                      e["address"] or "", str(subject or ""), detail)  # fmt: skip
    out.print(table)
