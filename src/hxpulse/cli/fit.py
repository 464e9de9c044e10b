"""`hxpulse fit`: learn from the event log what serving reads (offers, text, lifetime value).

`hxpulse fit` alone fits every kind in turn; `hxpulse fit KIND` one of them. Each fit writes its
result in one transaction (`learn.store`), so serving keeps the last model until then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from hxpulse.cli import offers as offers_cmd

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
        ctx.invoke(command, ctx)


FITS: list[tuple[str, Callable[..., Any]]] = []  # (name, command), in order
# each kind registers here: app.command("KIND")(module.command); FITS.append(("KIND", command))
app.command("offers")(offers_cmd.fit_offers)
FITS.append(("offers", offers_cmd.fit_offers))
