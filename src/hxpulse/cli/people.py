"""`hxpulse users …`: the people who sign in, their roles, passwords and sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from hxpulse.audit.who import Who
from hxpulse.cli.common import clean_errors, console, engine, print_json

app = typer.Typer(help="Manage the people who sign in to the web pages.", no_args_is_help=True)
CLI = Who("system", None, "command line")
Ref = Annotated[str, typer.Argument(help="The person's email or user id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def _change(ctx: typer.Context, ref: str, work: Any) -> dict[str, Any]:
    """Find the person and run `work(conn, user, now)` in one write transaction."""
    from hxpulse.auth import users as people
    from hxpulse.db.engine import run_write

    def run(conn: Any) -> dict[str, Any]:
        user = people.find(conn, ref)
        work(conn, user, datetime.now(UTC))
        return user

    return run_write(engine(ctx), run)


@app.command("create")
@clean_errors
def create(
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
    from hxpulse.auth import service as auth
    from hxpulse.db.engine import run_write

    auth.check_role(role)
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user_id = run_write(engine(ctx), lambda conn: auth.create_user(
        conn, email=email, password=secret, role=role, name=name, who=CLI))  # fmt: skip
    console.print(f"Created user {user_id} {email} ({role}).")


@app.command("list")
@clean_errors
def list_users(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List people: email, role, active or disabled, last sign-in, sessions open now."""
    from hxpulse.auth import users as people

    with engine(ctx).connect() as conn:
        rows = people.list_users(conn, now=datetime.now(UTC))
    if as_json:
        print_json(rows)
        return
    table = Table("id", "email", "name", "role", "state", "last sign-in", "sessions")
    for row in rows:
        table.add_row(str(row["id"]), row["email"], row["name"] or "", row["role"],
                      "active" if row["active"] else "disabled", _when(row["last_login_at"]),
                      str(row["sessions"]))  # fmt: skip
    console.print(table)


@app.command("set-role")
@clean_errors
def set_role(
    ctx: typer.Context,
    ref: Ref,
    role: Annotated[str, typer.Option("--role", help="admin, analyst or agent.")],
) -> None:
    """Give a person another role (the last active admin stays an admin)."""
    from hxpulse.auth import users as people

    user = _change(ctx, ref, lambda conn, user, now: people.set_role(
        conn, user_id=user["id"], role=role, who=CLI, now=now))  # fmt: skip
    console.print(f"{user['email']} is now {role}.")


@app.command("disable")
@clean_errors
def disable(ctx: typer.Context, ref: Ref) -> None:
    """Disable a person: their sessions end at once and they cannot sign in."""
    from hxpulse.auth import users as people

    user = _change(ctx, ref, lambda conn, user, now: people.set_active(
        conn, user_id=user["id"], active=False, who=CLI, now=now))  # fmt: skip
    console.print(f"Disabled {user['email']}; their sessions have ended.")


@app.command("enable")
@clean_errors
def enable(ctx: typer.Context, ref: Ref) -> None:
    """Let a disabled person sign in again."""
    from hxpulse.auth import users as people

    user = _change(ctx, ref, lambda conn, user, now: people.set_active(
        conn, user_id=user["id"], active=True, who=CLI, now=now))  # fmt: skip
    console.print(f"Enabled {user['email']}.")


@app.command("reset-password")
@clean_errors
def reset_password(
    ctx: typer.Context,
    ref: Ref,
    password: Annotated[
        str | None,
        typer.Option("--password", help="The new password (default: one is generated)."),
    ] = None,
) -> None:
    """Set a new password (generated and printed once when not given); sessions end."""
    from hxpulse.auth import users as people

    chosen: list[str] = []
    user = _change(ctx, ref, lambda conn, user, now: chosen.append(people.reset_password(
        conn, user_id=user["id"], password=password, who=CLI, now=now)))  # fmt: skip
    console.print(f"New password set for {user['email']}; their sessions have ended.")
    if password is None:
        console.print("Hand it over now: it is not shown again.")
        print(chosen[0])


@app.command("sign-out")
@clean_errors
def sign_out(ctx: typer.Context, ref: Ref) -> None:
    """End every session of a person (sign them out everywhere)."""
    from hxpulse.auth import users as people

    ended: list[int] = []
    user = _change(ctx, ref, lambda conn, user, now: ended.append(people.sign_out_everywhere(
        conn, user_id=user["id"], who=CLI, now=now)))  # fmt: skip
    console.print(f"Ended {ended[0]} session(s) of {user['email']}.")
