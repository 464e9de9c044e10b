"""`hxpulse`: serve, import, report and administer HX Pulse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from hxpulse.auth import service as auth
from hxpulse.cli import demo as demo_cmd
from hxpulse.cli import importing
from hxpulse.cli import journey as journey_cmd
from hxpulse.cli import pulse as pulse_cmd
from hxpulse.cli import segments as segments_cmd
from hxpulse.cli import surveys as surveys_cmd
from hxpulse.cli.common import check_pulse_keys, clean_errors, console, engine, print_json, settings
from hxpulse.customers import queries
from hxpulse.db.migrate import current_revision, upgrade
from hxpulse.surveys import service as survey_service

app = typer.Typer(
    help="HX Pulse: every touchpoint on one customer profile.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys = typer.Typer(help="Create, list and revoke write keys and API keys.", no_args_is_help=True)
users = typer.Typer(help="Manage the people who sign in to the web pages.", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(users, name="users")
app.add_typer(importing.app, name="import")
app.add_typer(segments_cmd.app, name="segments")
app.add_typer(surveys_cmd.app, name="surveys")
app.add_typer(surveys_cmd.themes_app, name="themes")
importing.app.command("responses")(surveys_cmd.responses)
app.command("demo")(demo_cmd.demo)
app.command("pulse")(pulse_cmd.pulse)
app.command("funnel")(journey_cmd.funnel)
app.command("nps")(surveys_cmd.nps)


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

    from hxpulse.web.app import create_app

    config = settings(ctx)
    application = create_app(config)
    console.print(f"HX Pulse on http://{host or config.host}:{port or config.port}")
    uvicorn.run(application, host=host or config.host, port=port or config.port,
                log_level="warning", access_log=False)  # fmt: skip


@app.command()
@clean_errors
def stats(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Count customers, events and identities."""
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
) -> None:
    """Create a key; the key itself is printed once, alone on the last line."""
    with engine(ctx).begin() as conn:
        info, secret = auth.create_key(conn, name=name, scopes=scope or ["track"])
    console.print(f"Created key {info.id} {info.name!r} with scopes {', '.join(info.scopes)}.")
    console.print("Store it now: it is not shown again.")
    print(secret)


@keys.command("list")
@clean_errors
def keys_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List keys (never their secrets)."""
    with engine(ctx).connect() as conn:
        rows = auth.list_keys(conn)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        console.print(f"{row['id']:>4}  {row['prefix']}…  {row['name']}  [{row['scopes']}] {state}")


@keys.command("revoke")
@clean_errors
def keys_revoke(ctx: typer.Context, key_id: Annotated[int, typer.Argument(help="Key id.")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with engine(ctx).begin() as conn:
        if not auth.revoke_key(conn, key_id=key_id):
            console.print(f"[red]Error:[/red] there is no key {key_id}")
            raise typer.Exit(1)
    console.print(f"Revoked key {key_id}.")


@users.command("create")
@clean_errors
def users_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's email, used to sign in.")],
    role: Annotated[str, typer.Option("--role", help="admin, analyst or agent.")] = "agent",
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password (asked for when not given)."),
    ] = None,
) -> None:
    """Create a person who signs in to the web pages."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with engine(ctx).begin() as conn:
        user_id = auth.create_user(conn, email=email, password=secret, role=role, name=name)
    console.print(f"Created user {user_id} {email} ({role}).")


def main() -> None:
    app()
