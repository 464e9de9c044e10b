"""`hxpulse rules`: the configured rules with their firings, and a dry run of one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hxpulse.cli.common import clean_errors, engine, print_json, settings
from hxpulse.errors import Invalid

app = typer.Typer(help="Rules: trigger → conditions → actions, and their firings.")
out = Console(highlight=False)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.callback(invoke_without_command=True)
@clean_errors
def rules(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the configured rules with how often each fired (and was capped)."""
    if ctx.invoked_subcommand is not None:
        return
    from hxpulse.rules import service

    config = settings(ctx)
    with engine(ctx).connect() as conn:
        items = service.list_rules(conn, config.live)
    if as_json:
        print_json(items)
        return
    table = Table(title="Rules")
    for name in ("rule", "trigger", "conditions", "actions", "fired", "capped"):
        table.add_column(name, justify="right" if name in ("fired", "capped") else "left")
    for item in items:
        actions = ", ".join(k for a in item["actions"] for k in a if k != "cap")
        table.add_row(item["name"] + ("" if item["enabled"] else " (off)"),
                      item["trigger"]["text"], " and ".join(item["when"]) or "always", actions,
                      str(item["firings"]), str(item["capped"]))  # fmt: skip
    out.print(table)


@app.command("test")
@clean_errors
def test(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="The rule's name.")],
    event: Annotated[Path, typer.Option("--event", help="A JSON file: the event to imagine.")],
    customer: Annotated[
        str | None, typer.Option("--customer", help="Whose state the conditions read.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show what RULE would do for the event in FILE, and why; nothing is written."""
    import orjson

    from hxpulse.customers import queries
    from hxpulse.rules import service
    from hxpulse.rules.schemas import parse_test

    try:
        body = orjson.loads(event.read_bytes())
    except OSError as exc:
        raise Invalid(f"cannot read {event}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"--event is not valid JSON: {exc}") from None
    if isinstance(body, dict) and "event" not in body:
        body = {"event": body}
    data = parse_test(body | ({"customer": customer} if customer else {}))
    config = settings(ctx)
    with engine(ctx).connect() as conn:
        cid = None if data.customer is None else queries.find(conn, data.customer)
        result = service.trial(conn, config.live, rule, data.event.model_dump(),
                               customer_id=cid, now=datetime.now(UTC))  # fmt: skip
    if as_json:
        print_json(result)
        return
    verdict = "would fire" if result["fires"] else "would not fire"
    verdict = "capped" if result["capped"] else verdict
    out.print(f"{rule}: {result['trigger']}: [bold]{verdict}[/bold]"
              + (" (trigger taken as happened)" if result["assumed"] else ""))  # fmt: skip
    for reason in result["reasons"]:
        mark = "[green]✓[/green]" if reason["held"] else "[red]✗[/red]"
        actual = "" if reason["actual"] is None else f" (is {reason['actual']!r})"
        out.print(f"  {mark} {reason['condition']}{actual}")
    for action in result["actions"]:
        out.print(f"  → {action['kind']} {orjson.dumps(action['payload']).decode()}")
