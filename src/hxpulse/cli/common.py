"""What every command shares: settings from --db, clean errors, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import ensure_current
from hxpulse.errors import HXError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    url = (ctx.obj or {}).get("db")
    try:
        return Settings(database_url=url) if url else Settings()
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HXError(f"configuration is not valid: {message}") from None


def engine(ctx: typer.Context, *, migrate: bool = True) -> Engine:
    """Return the engine for --db / HXPULSE_DATABASE_URL, migrating a new database."""
    built = make_engine(settings(ctx))
    ctx.call_on_close(built.dispose)
    if migrate:
        ensure_current(built)
    return built


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
