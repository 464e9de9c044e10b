"""`hxpulse fit clv` and `hxpulse clv CUSTOMER`: fit lifetime value, read one customer's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings
from hxpulse.errors import Invalid

PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"--calibration-end: {text!r} is not a day (YYYY-MM-DD)") from None


@clean_errors
def fit_clv(
    ctx: typer.Context,
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end",
            help="Fit on the purchases up to the end of this day (YYYY-MM-DD); default: today.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit lifetime value (BG/NBD + Gamma-Gamma) on the purchase events; store every
    customer's expected purchases, P(alive), spend per purchase and CLV."""
    from hxpulse.clv import service

    end = _day(calibration_end)
    config = settings(ctx)
    built = engine(ctx)
    now = datetime.now(UTC)
    if as_json:
        meta = service.fit_and_store(built, config.pulse, now=now, calibration_end=end)
        print_json({k: meta[k] for k in PARAMETERS})
        return
    with console.status("fitting lifetime value …") as status:
        meta = service.fit_and_store(built, config.pulse, now=now, calibration_end=end,
                                     progress=lambda text: status.update(text))  # fmt: skip
    _show_fit(meta)


def _show_fit(meta: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Lifetime value fitted to {meta['calibration_end']}", show_header=False)
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name in ("r", "alpha", "a", "b"):
        table.add_row(f"BG/NBD {name}", f"{meta[name]:.4f}")
    table.add_row("BG/NBD log-likelihood", f"{meta['log_likelihood']:.1f}")
    for name in ("p", "q", "gamma"):
        table.add_row(f"Gamma-Gamma {name}", f"{meta[name]:.4f}")
    table.add_row("Gamma-Gamma log-likelihood", f"{meta['gamma_gamma_log_likelihood']:.1f}")
    table.add_row("customers", f"{meta['customers']:,}")
    table.add_row("repeat buyers", f"{meta['repeat_buyers']:,}")
    Console(highlight=False).print(table)


@clean_errors
def value(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(
            help="Any identity (email, user id, phone, ...; kind:value names the kind) or id:N for"
            " the internal id N (a bare number is an internal id only when no identity matches)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one customer's lifetime value: expected purchases in 12 months, P(alive), spend
    per purchase, CLV and CLV ÷ first purchase (from the last `hxpulse fit clv`)."""
    from hxpulse.clv import service
    from hxpulse.customers import queries

    with engine(ctx).connect() as conn:
        found = service.customer_value(conn, customer_id=queries.find(conn, customer))
    if as_json:
        print_json(found)
        return
    _show_value(found)


def _show_value(v: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    if not v["fitted"]:
        out.print(f"customer {v['customer_id']}: no lifetime value (no purchase in the last"
                  " fit, or no fit yet: hxpulse fit clv)")  # fmt: skip
        return
    table = Table(title=f"Lifetime value of customer {v['customer_id']}", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    ratio = v["clv_per_first_purchase"]
    for label, text in (
        ("CLV (12 months)", f"{v['clv']:,.2f}"),
        ("P(alive)", f"{100 * v['p_alive']:.1f}%"),
        ("expected purchases (12 months)", f"{v['expected_purchases']:.2f}"),
        ("expected spend per purchase", f"{v['expected_spend']:,.2f}"),
        ("first purchase", "—" if v["first_purchase"] is None else f"{v['first_purchase']:,.2f}"),
        ("CLV ÷ first purchase", "—" if ratio is None else f"{ratio:.2f}×"),
        ("fitted at", str(v["fitted_at"])),
    ):
        table.add_row(label, text)
    out.print(table)
