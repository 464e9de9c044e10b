"""`hxpulse fit`: learn from the event log what serving reads (offers, text, lifetime value).

`hxpulse fit` alone fits every kind in turn; `hxpulse fit KIND` one of them. Each fit writes its
result in one transaction (`learn.store`), so serving keeps the last model until then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from hxpulse.cli import clv as clv_module
from hxpulse.cli import offers as offers_cmd
from hxpulse.cli import text
from hxpulse.cli.common import console
from hxpulse.errors import HXError, NotEnoughData

app = typer.Typer(
    help="Fit the models serving uses: offers, text, clv (all of them without a KIND).",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def fit_all(ctx: typer.Context) -> None:
    """Fit every model when no KIND is given."""
    if ctx.invoked_subcommand is not None:
        return
    for name, command in FITS:
        typer.echo(f"fitting {name} …", err=True)
        try:  # the command without clean_errors, to tell "too little data" from a failure
            ctx.invoke(getattr(command, "__wrapped__", command), ctx)
        except NotEnoughData as exc:
            typer.echo(f"{name}: not fitted: {exc.message}", err=True)
        except HXError as exc:
            console.print(f"[red]Error:[/red] {escape(exc.message)}", highlight=False)
            raise typer.Exit(1) from None


FITS: list[tuple[str, Callable[..., Any]]] = []  # (name, command), in order
# each kind registers here: app.command("KIND")(module.command); FITS.append(("KIND", command))
app.command("text")(text.fit_text)
FITS.append(("text", text.fit_text))
app.command("clv")(clv_module.fit_clv)
FITS.append(("clv", clv_module.fit_clv))
app.command("offers")(offers_cmd.fit_offers)
FITS.append(("offers", offers_cmd.fit_offers))
