"""`hxpulse`: serve, import, report and administer HX Pulse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from hxpulse.cli import advocacy as advocacy_cmd
from hxpulse.cli import cases as cases_cmd
from hxpulse.cli import clv as clv_cmd
from hxpulse.cli import demo as demo_cmd
from hxpulse.cli import fit as fit_cmd
from hxpulse.cli import importing
from hxpulse.cli import journey as journey_cmd
from hxpulse.cli import offers as offers_cmd
from hxpulse.cli import outbox as outbox_cmd
from hxpulse.cli import people as people_cmd
from hxpulse.cli import privacy as privacy_cmd
from hxpulse.cli import pulse as pulse_cmd
from hxpulse.cli import rules as rules_cmd
from hxpulse.cli import segments as segments_cmd
from hxpulse.cli import surveys as surveys_cmd
from hxpulse.cli import themes as themes_cmd
from hxpulse.cli.common import check_pulse_keys, clean_errors, console, engine, print_json, settings
from hxpulse.cli.people import CLI

app = typer.Typer(
    help="HX Pulse: every touchpoint on one customer profile.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys = typer.Typer(help="Create, list and revoke write keys and API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(people_cmd.app, name="users")
app.add_typer(importing.app, name="import")
app.add_typer(segments_cmd.app, name="segments")
app.add_typer(surveys_cmd.app, name="surveys")
app.add_typer(themes_cmd.app, name="themes")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(cases_cmd.teams_app, name="teams")
app.add_typer(fit_cmd.app, name="fit")
importing.app.command("responses")(surveys_cmd.responses)
app.command("demo")(demo_cmd.demo)
app.command("pulse")(pulse_cmd.pulse)
app.command("funnel")(journey_cmd.funnel)
app.command("nps")(surveys_cmd.nps)
app.command("advocacy")(advocacy_cmd.advocacy)
app.command("clv")(clv_cmd.value)
app.command("offers")(offers_cmd.offers)
app.command("export")(privacy_cmd.export)
app.command("erase")(privacy_cmd.erase)
app.command("audit")(privacy_cmd.audit)
app.command("worker")(outbox_cmd.worker)
app.command("deliveries")(outbox_cmd.deliveries)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: HXPULSE_DATABASE_URL or sqlite:///hxpulse.db)."
        ),
    ] = None,
) -> None:
    ctx.obj = {"db": db}


@app.command()
@clean_errors
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (and rebuild the pulse when an upgrade asks)."""
    from hxpulse.db.migrate import current_revision, upgrade
    from hxpulse.surveys import service as survey_service

    built = engine(ctx, migrate=False, check_pulse=False)
    before = current_revision(built)
    upgrade(built)
    after = current_revision(built)
    console.print(f"Database at revision {after}" + (" (unchanged)" if before == after else ""))
    check_pulse_keys(built, settings(ctx).live)
    with built.begin() as conn:
        synced = survey_service.sync_definitions(conn, settings(ctx).surveys, now=datetime.now(UTC))
    if synced:
        console.print(f"Surveys from hxpulse.toml created or updated: {', '.join(synced)}")


@app.command()
@clean_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the web pages, the JSON API and the tracking API (migrates a new database)."""
    import uvicorn

    from hxpulse.app import create_app
    from hxpulse.auth import users

    config = settings(ctx)
    application = create_app(config)
    console.print(f"HX Pulse on http://{host or config.host}:{port or config.port}")
    with application.state.engine.connect() as conn:
        hint = users.first_admin_hint(conn)
    if hint is not None:
        console.print(hint, markup=False, highlight=False, soft_wrap=True)  # one line to copy
    uvicorn.run(application, host=host or config.host, port=port or config.port,
                log_level="warning", access_log=False)  # fmt: skip


@app.command()
@clean_errors
def stats(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Count customers, events and identities."""
    from hxpulse.customers import queries

    with engine(ctx).connect() as conn:
        data = queries.counts(conn)
    if as_json:
        print_json(data)
        return
    for name, value in data.items():
        console.print(f"{name:>11}: {value:,}", highlight=False)


@keys.command("create")
@clean_errors
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="track (write key, the default), read, write or admin; repeatable."
        ),
    ] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option(
            "--origin",
            help="A website allowed to send with this key from the browser"
            " (https://shop.example); repeatable; the key may then only track.",
        ),
    ] = None,
) -> None:
    """Create a key; the key itself is printed once, alone on the last line."""
    from hxpulse.auth import service as auth

    with engine(ctx).begin() as conn:
        info, secret = auth.create_key(
            conn, name=name, scopes=scope or ["track"], origins=origin or [], who=CLI
        )
    console.print(f"Created key {info.id} {info.name!r} with scopes {', '.join(info.scopes)}.")
    if info.origins:
        console.print(f"Browsers may send with it from {', '.join(info.origins)}.")
    console.print("Store it now: it is not shown again.")
    print(secret)


@keys.command("list")
@clean_errors
def keys_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List keys (never their secrets): name, prefix, scopes, web origins, created, last use,
    state."""
    from hxpulse.auth import service as auth

    with engine(ctx).connect() as conn:
        rows = auth.list_keys(conn)
    if as_json:
        print_json(rows)
        return
    web = any(row["origins"] for row in rows)  # browser keys' sites, when there are any
    table = Table("id", "name", "key", "scopes", *(["origins"] if web else []), "created",
                  "last used", "state")  # fmt: skip
    for row in rows:
        used = row["last_used_at"].strftime("%Y-%m-%d %H:%M") if row["last_used_at"] else "never"
        state = f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
        origins = [" ".join(row["origins"]) or "—"] if web else []
        table.add_row(str(row["id"]), row["name"], f"{row['prefix']}…",
                      row["scopes"].replace(",", ", "), *origins,
                      f"{row['created_at']:%Y-%m-%d}", used, state)  # fmt: skip
    console.print(table)


@keys.command("revoke")
@clean_errors
def keys_revoke(ctx: typer.Context, key_id: Annotated[int, typer.Argument(help="Key id.")]) -> None:
    """Revoke a key: refused from now on (running servers stop accepting it within a second)."""
    from hxpulse.auth import service as auth
    from hxpulse.db.engine import run_write

    if not run_write(engine(ctx), lambda conn: auth.revoke_key(conn, key_id=key_id, who=CLI)):
        console.print(f"[red]Error:[/red] there is no active key {key_id}")
        raise typer.Exit(1)
    console.print(f"Revoked key {key_id}.")


def main() -> None:
    app()
