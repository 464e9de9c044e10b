"""`hxpulse import events FILE`: CSV or JSONL with a progress bar and a rejects file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings
from hxpulse.errors import Invalid

if TYPE_CHECKING:
    from hxpulse.events.importer import ImportSummary

app = typer.Typer(help="Import data from files.", no_args_is_help=True)


@app.command("events")
@clean_errors
def events(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of events.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import events; bad rows go to FILE.rejects.csv with their line number and reason."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from hxpulse.events.importer import import_events

    check_file(file)
    built = engine(ctx)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=as_json) as bar:
        task = bar.add_task(file.name, total=file.stat().st_size, rows=0, rate=0.0)

        def advance(done_bytes: int, rows: int) -> None:
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, completed=done_bytes, rows=rows, rate=rows / elapsed)

        summary = import_events(built, file, live=settings(ctx).live, progress=advance)
    finish(summary, as_json)


def check_file(file: Path) -> None:
    """Refuse a missing file or one that is neither CSV nor JSONL."""
    if not file.is_file():
        raise Invalid(f"{file}: no such file")
    if file.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise Invalid(f"{file}: use a .csv, .jsonl or .ndjson file")


def finish(summary: ImportSummary, as_json: bool) -> None:
    """Print an import's summary; exit 2 when every row was refused."""
    data = {
        "rows": summary.rows,
        "stored": summary.stored,
        "duplicates": summary.duplicates,
        "erased": summary.erased,
        "rejected": summary.rejected,
        "rejects_file": str(summary.rejects_path) if summary.rejects_path else None,
    }
    if as_json:
        print_json(data)
    else:
        line = (
            f"{summary.rows:,} rows: {summary.stored:,} stored, "
            f"{summary.duplicates:,} already there, {summary.rejected:,} rejected"
        )
        if summary.erased:
            line += f", {summary.erased:,} dropped (they name erased customers)"
        if summary.rejects_path:
            line += f" (see {summary.rejects_path})"
        console.print(line, highlight=False)
    if summary.rejected:
        raise typer.Exit(2 if summary.stored + summary.duplicates == 0 else 0)
