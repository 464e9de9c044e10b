"""`hxpulse demo`: load the CDNOW demo data, create a demo admin, and serve."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hxpulse.cli.common import clean_errors, console, engine, settings

if TYPE_CHECKING:
    from hxpulse.config import Settings

DEMO_EVENT_ESTIMATE = 150_000


@clean_errors
def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Serve the web pages after loading.")] = True,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Load the real CDNOW purchase history plus simulated touchpoints, then serve."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from hxpulse.demo.cases import ensure_demo_cases
    from hxpulse.demo.load import DEMO_EMAIL, DEMO_PASSWORD, demo_settings, ensure_demo_admin, load
    from hxpulse.demo.surveys import describe

    built = engine(ctx)
    config = demo_settings(settings(ctx))  # the brand the demo's questions name
    started = time.perf_counter()
    columns = (TextColumn("Loading demo data"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("demo", total=DEMO_EVENT_ESTIMATE)
        loaded = load(built, live=config.live, settings=config,
                      progress=lambda n: bar.advance(task, n),
                      survey_settings=config.surveys)  # fmt: skip
        bar.update(task, total=bar.tasks[0].completed)
    console.print(f"Loaded {loaded.events:,} new events in {loaded.seconds:.1f} s.")
    console.print(f"{describe(loaded.surveys)} in {loaded.surveys.seconds:.1f} s.")
    if loaded.offers is not None and loaded.offers.exposures:
        console.print(f"Served {loaded.offers.exposures:,} offers to {loaded.offers.customers:,}"
                      f" customers: {loaded.offers.accepted:,} accepted,"
                      f" {loaded.offers.declined:,} declined, in"
                      f" {loaded.offers.seconds:.1f} s.")  # fmt: skip
    if loaded.value is not None:
        console.print(f"Fitted lifetime value on {loaded.value['customers']:,} customers in"
                      f" {loaded.value_seconds:.1f} s.")  # fmt: skip
    if loaded.offers_model is not None:
        console.print(f"Fitted the offers model on {loaded.offers_model['customers']:,} customers"
                      f" and {loaded.offers_model['items']:,} items in"
                      f" {loaded.offers_seconds:.1f} s.")  # fmt: skip
    if loaded.text_model is not None:
        console.print(f"Fitted the text model of survey whys on {loaded.text_model['answers']:,}"
                      f" answers in {loaded.text_seconds:.1f} s: {loaded.text_model['reason']}.",
                      highlight=False)  # fmt: skip
    console.print(f"Demo ready in {time.perf_counter() - started:.1f} s.")
    if ensure_demo_admin(built):
        console.print("Created the demo admin.")
    opened = ensure_demo_cases(built, config, password=DEMO_PASSWORD, now=datetime.now(UTC))
    if opened:
        console.print(f"Opened {opened} demo cases for the agents (password {DEMO_PASSWORD}).")
    console.print(
        f"Sign in as [bold]{DEMO_EMAIL}[/bold] with password [bold]{DEMO_PASSWORD}[/bold]"
    )
    if config.surveys.brand != settings(ctx).surveys.brand:
        console.print(f"The demo's brand is {config.surveys.brand}: to keep it on the survey pages "
                      f"under `hxpulse serve`, set [surveys] brand = \"{config.surveys.brand}\" "
                      "in hxpulse.toml.", highlight=False, markup=False)  # fmt: skip
    built.dispose()
    if serve:
        _serve(config, port or config.port)


def _serve(config: Settings, port: int) -> None:
    """Serve the demo; without a configured `[smtp] host`, its mail goes to a local catcher
    (`demo.mail`) whose folder the console names."""
    import uvicorn

    from hxpulse.app import create_app
    from hxpulse.demo import mail

    config, catcher = mail.for_demo(config, Path(mail.FOLDER).resolve())
    if catcher is not None:
        console.print(f"The demo's emails are kept in {mail.FOLDER}/new (no [smtp] host is "
                      "configured: nothing leaves this machine).", highlight=False,
                      markup=False)  # fmt: skip
    console.print(f"HX Pulse demo on http://{config.host}:{port}  (Ctrl+C stops it)")
    try:
        uvicorn.run(create_app(config), host=config.host, port=port, log_level="warning")
    finally:
        if catcher is not None:
            catcher.stop()
