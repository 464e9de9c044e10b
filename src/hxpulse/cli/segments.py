"""`hxpulse segments`: list saved segments with live counts, create, list members, export CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.cli.common import clean_errors, engine, print_json, settings
from hxpulse.errors import Invalid

app = typer.Typer(help="Saved segments: live counts, members, CSV export.", no_args_is_help=True)
out = Console(highlight=False)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _definition(text: str) -> Any:
    """Read a definition given inline as JSON, or from a file as `@path`."""
    import orjson

    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise Invalid(f"cannot read {path}: {exc.strerror}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"--definition is not valid JSON: {exc}") from None


@app.command("list")
@clean_errors
def list_segments(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List saved segments with the number of customers in each now."""
    from hxpulse.segments import service

    config = settings(ctx)
    with engine(ctx).connect() as conn:
        items = service.list_segments(conn, config.live, datetime.now(UTC))
    if as_json:
        print_json(items)
        return
    if not items:
        out.print("No saved segments yet: hxpulse segments create NAME --definition JSON")
        return
    table = Table(title="Segments")
    for name in ("id", "name", "customers", "description"):
        table.add_column(name, justify="right" if name in ("id", "customers") else "left")
    for item in items:
        counted = f"{item['count']:,}" if item["count"] is not None else f"error: {item['error']}"
        table.add_row(str(item["id"]), item["name"], counted, item["description"] or "")
    out.print(table)


@app.command("create")
@clean_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name.")],
    definition: Annotated[
        str, typer.Option("--definition", help="The conditions as JSON, or @FILE to read them.")
    ],
    description: Annotated[str | None, typer.Option(help="What the segment is for.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Save a segment and print how many customers it holds now."""
    from hxpulse.segments import service

    config, built, now = settings(ctx), engine(ctx), datetime.now(UTC)
    with built.begin() as conn:
        made = service.create(
            conn,
            config.live,
            name=name,
            description=description,
            definition=_definition(definition),
            now=now,
        )
    with built.connect() as conn:
        made["count"] = service.count(conn, config.live, made["definition"], now)
    if as_json:
        print_json(made)
        return
    out.print(f"Saved segment {made['id']} {made['name']!r}: {made['count']:,} customers now.")


@app.command("members")
@clean_errors
def members(
    ctx: typer.Context,
    segment: Annotated[str, typer.Argument(help="The segment's name or id.")],
    limit: Annotated[int, typer.Option(help="How many members to show.")] = 50,
    offset: Annotated[int, typer.Option(help="How many to skip first.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """List a segment's members (by customer id) with email, stage, pulse and band."""
    from hxpulse.segments import service

    config = settings(ctx)
    now = datetime.now(UTC)
    with engine(ctx).connect() as conn:
        found = service.find(conn, segment)
        items = service.members(
            conn, config.live, found["definition"], now, limit=limit, offset=offset
        )
        total = service.count(conn, config.live, found["definition"], now)
    if as_json:
        print_json({"segment": found["name"], "count": total, "items": items})
        return
    table = Table(title=f"{found['name']}: {total:,} customers")
    for column in ("id", "name", "email", "stage", "pulse", "band"):
        table.add_column(column, justify="right" if column in ("id", "pulse") else "left")
    for m in items:
        table.add_row(
            str(m["id"]),
            m["name"] or "",
            m["email"] or "",
            m["stage"],
            f"{m['pulse']:.1f}",
            m["band"],
        )
    out.print(table)


@app.command("export")
@clean_errors
def export(
    ctx: typer.Context,
    segment: Annotated[str, typer.Argument(help="The segment's name or id.")],
    file: Annotated[Path, typer.Argument(help="The CSV file to write.")],
) -> None:
    """Write every member of a segment to a CSV file."""
    from hxpulse.segments import service

    config, built, now = settings(ctx), engine(ctx), datetime.now(UTC)
    with built.connect() as conn:
        found = service.find(conn, segment)
        total = service.count(conn, config.live, found["definition"], now)
    with file.open("wb") as handle:
        for chunk in service.export_csv(built, config.live, found["definition"], now):
            handle.write(chunk)
    out.print(f"Wrote {total:,} customers of {found['name']!r} to {file}.")


@app.command("delete")
@clean_errors
def delete(
    ctx: typer.Context,
    segment: Annotated[str, typer.Argument(help="The segment's name or id.")],
) -> None:
    """Delete a saved segment (its customers are untouched)."""
    from hxpulse.segments import service

    with engine(ctx).begin() as conn:
        found = service.find(conn, segment)
        service.remove(conn, found["id"])
    out.print(f"Deleted segment {found['id']} {found['name']!r}.")
