"""`hxpulse themes …`: the themes of the why answers: list with their impact, fit, rename, merge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.cli.common import clean_errors, engine, print_json
from hxpulse.cli.surveys import JsonOption, fmt

app = typer.Typer(help="Themes of the why answers: discover, rename, merge.", no_args_is_help=True)
out = Console(highlight=False)


@app.command("list")
@clean_errors
def list_themes(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Themes with mentions, their NPS and impact (NPS change without them)."""
    from hxpulse.surveys import themes

    with engine(ctx).connect() as conn:
        result = themes.drivers(conn)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"Themes of {result['answers']:,} NPS answers (NPS {fmt(result['nps'])})")
    for name in ("id", "theme", "mentions", "share", "NPS", "impact"):
        table.add_column(name, justify="left" if name == "theme" else "right")
    for t in result["themes"]:
        impact = "—" if t["impact"] is None else f"{t['impact']:+.1f}"
        table.add_row(
            str(t["id"]),
            t["name"],
            f"{t['mentions']:,}",
            f"{fmt(t['share'])}%",
            fmt(t["nps"]),
            impact,
        )
    out.print(table)
    out.print("impact: how many points the overall NPS would change without the theme's answers")


@app.command("fit")
@clean_errors
def fit(
    ctx: typer.Context,
    count: Annotated[
        int | None,
        typer.Option("--themes", min=2, max=40, help="How many themes (default: from the data)."),
    ] = None,
) -> None:
    """Discover themes from the answers (replaces earlier themes, their names and merges)."""
    from hxpulse.db.engine import run_write
    from hxpulse.surveys import themes

    got = run_write(
        engine(ctx), lambda conn: themes.fit(conn, now=datetime.now(UTC), n_themes=count)
    )
    out.print(f"{got['themes']} themes from {got['answers']:,} answers")


@app.command("rename")
@clean_errors
def rename(
    ctx: typer.Context,
    theme_id: Annotated[int, typer.Argument(help="The theme's id.")],
    name: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Rename a theme."""
    from hxpulse.db.engine import run_write
    from hxpulse.surveys import themes

    got = run_write(engine(ctx), lambda conn: themes.rename(conn, theme_id, name))
    out.print(f"Theme {got['id']} is now {got['name']!r}")


@app.command("merge")
@clean_errors
def merge(
    ctx: typer.Context,
    theme_id: Annotated[int, typer.Argument(help="The theme to fold in.")],
    into: Annotated[int, typer.Argument(help="The theme that keeps its answers.")],
) -> None:
    """Merge one theme into another."""
    from hxpulse.db.engine import run_write
    from hxpulse.surveys import themes

    got = run_write(engine(ctx), lambda conn: themes.merge(conn, theme_id, into))
    out.print(f"Merged theme {theme_id} into {got['id']} {got['name']!r}")
