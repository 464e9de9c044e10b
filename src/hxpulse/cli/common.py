"""What every command shares: settings from --db, clean errors, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hxpulse.config import Live, Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import ensure_current
from hxpulse.errors import HXError
from hxpulse.pulse.law import rebuild_reason
from hxpulse.pulse.rebuild import ensure_keys

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    url = (ctx.obj or {}).get("db")
    try:
        return Settings(database_url=url) if url else Settings()
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HXError(f"configuration is not valid: {message}") from None


def engine(ctx: typer.Context, *, migrate: bool = True, check_pulse: bool = True) -> Engine:
    """Return the engine for --db / HXPULSE_DATABASE_URL, migrating a new database and bringing
    the stored pulse in line with `[pulse]` (see `check_pulse_keys`)."""
    built = make_engine(settings(ctx))
    ctx.call_on_close(built.dispose)
    if migrate:
        ensure_current(built)
    if check_pulse:
        check_pulse_keys(built, settings(ctx).live)
    return built


def check_pulse_keys(built: Engine, live: Live) -> None:
    """Rebuild every pulse when a migration asked for it (with a progress bar); stop when the
    half-life changed since the pulse was built; print any other warning."""
    with built.connect() as conn:
        pending = rebuild_reason(conn)
    now = datetime.now(UTC)
    if pending is None:
        notes = ensure_keys(built, live, now=now)
    else:
        console.print(f"Rebuilding every customer's pulse: {pending}.", highlight=False)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=True) as bar:  # fmt: skip
            task = bar.add_task("events", total=None)
            notes = ensure_keys(built, live, now=now, progress=lambda n: bar.advance(task, n))
    for note in notes:
        console.print(f"[yellow]Note:[/yellow] {note}", highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def clean_errors(func: F) -> F:
    """Turn HX Pulse and database errors into one red line and exit code 1, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HXError as exc:
            console.print(f"[red]Error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(1) from None
        except OperationalError as exc:
            console.print(f"[red]Database error:[/red] {exc.orig}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
