"""`hxpulse fit text`: learn the sentiment of a why from the business's own answers.

Fits a text model (why → the survey kind's negative band) and compares it with VADER on
held-out answers; serving uses the model only when it is better (`surveys.textfit`), and the
stored answers are re-scored with the scorer chosen, so all of them read on one scale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from hxpulse.cli.common import clean_errors, engine, print_json, settings

out = Console(highlight=False)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@clean_errors
def fit_text(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Fit the text model of the why answers and compare it with VADER on held-out answers."""
    from hxpulse.surveys import textfit

    got = textfit.fit(engine(ctx), settings=settings(ctx).surveys, now=datetime.now(UTC))
    if as_json:
        print_json(got)
        return
    out.print(
        f"text: {got['answers']:,} answers with a why, {got['negatives']:,} negative;"
        f" held out {got['held_out']:,}"
    )
    out.print(f"  held-out AUC: model {_auc(got['model_auc'])}, VADER {_auc(got['vader_auc'])}")
    used = "the fitted model" if got["used"] == "model" else "VADER"
    out.print(f"  sentiment of answers: {used} ({got['reason']})")
    done = got["rescored"]
    out.print(
        f"  stored answers re-scored with it: {done['answers']:,} read, {done['changed']:,}"
        f" changed ({done['flags_changed']:,} follow-up flags changed)"
    )
