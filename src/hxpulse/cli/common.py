"""What every command shares: settings from --db, clean errors, JSON output.

The command modules import only typer, rich, the standard library and tiny hxpulse modules at
module level; what needs the database, the web app or the numbers is imported inside the
command that uses it, so that `hxpulse --help` and every `hxpulse COMMAND --help` start fast
(tests/cli/test_startup.py, bench/cli.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hxpulse.errors import HXError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.exc import OperationalError

    from hxpulse.config import Live, Settings

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    from pydantic import ValidationError

    from hxpulse.config import Settings

    url = (ctx.obj or {}).get("db")
    try:
        return Settings(database_url=url) if url else Settings()
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HXError(f"configuration is not valid: {message}") from None


def engine(ctx: typer.Context, *, migrate: bool = True, check_pulse: bool = True) -> Engine:
    """Return the engine for --db / HXPULSE_DATABASE_URL, migrating a new database and bringing
    the stored pulse in line with `[pulse]` (see `check_pulse_keys`)."""
    from hxpulse.db.engine import make_engine
    from hxpulse.db.migrate import ensure_current

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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hxpulse.pulse.law import rebuild_reason
    from hxpulse.pulse.rebuild import ensure_keys

    with built.connect() as conn:
        pending = rebuild_reason(conn)
    now = datetime.now(UTC)
    if pending is None:
        notes = ensure_keys(built, live, now=now)
    else:
        console.print(f"Rebuilding every customer's pulse: {escape(pending)}.", highlight=False)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=True) as bar:  # fmt: skip
            task = bar.add_task("events", total=None)
            notes = ensure_keys(built, live, now=now, progress=lambda n: bar.advance(task, n))
    for note in notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}", highlight=False)


def print_json(data: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def clean_errors(func: F) -> F:
    """Turn HX Pulse and database errors into one red line and exit code 1, not a traceback.
    Messages are escaped: they name config sections such as `[pulse]`, which Rich would
    otherwise take for markup and drop."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HXError as exc:
            console.print(f"[red]Error:[/red] {escape(exc.message)}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            console.print(f"[red]Database error:[/red] {escape(str(exc.orig))}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _is_database_error(exc: Exception) -> TypeGuard[OperationalError]:
    """SQLAlchemy's OperationalError, looked up without importing SQLAlchemy: when it is not
    loaded, nothing can have raised one."""
    loaded = sys.modules.get("sqlalchemy.exc")
    return loaded is not None and isinstance(exc, loaded.OperationalError)
