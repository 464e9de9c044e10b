"""`hxpulse nps`, `hxpulse surveys …` and `hxpulse import responses`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hxpulse.cli.common import clean_errors, console, engine, print_json, settings
from hxpulse.cli.importing import check_file, finish

if TYPE_CHECKING:
    from sqlalchemy import Engine

out = Console(highlight=False)
app = typer.Typer(help="Define surveys and send invitations.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _engine(ctx: typer.Context) -> Engine:
    """The engine, with the surveys of hxpulse.toml's [[surveys.definitions]] in place."""
    from hxpulse.surveys import service

    built = engine(ctx)
    with built.begin() as conn:
        service.sync_definitions(conn, settings(ctx).surveys, now=datetime.now(UTC))
    return built


def fmt(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@clean_errors
def nps(
    ctx: typer.Context,
    by: Annotated[
        str | None, typer.Option("--by", help="department, channel, touchpoint, survey or segment")
    ] = None,
    period: Annotated[str | None, typer.Option("--period", help="day, week or month")] = None,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat, ces or custom")] = "nps",
    survey: Annotated[str | None, typer.Option("--survey", help="One survey (name or id).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD).")] = None,
    department: Annotated[str | None, typer.Option("--department")] = None,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    touchpoint: Annotated[str | None, typer.Option("--touchpoint")] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only answers of this segment's members.")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="Test two groups of --by against each other: A,B."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """NPS (or CSAT/CES) with its 95% margin of error, overall and by group and period."""
    from hxpulse.surveys import insights

    config = settings(ctx)
    with _engine(ctx).connect() as conn:
        result = insights.nps_report(
            conn,
            config,
            by=by,
            period=period,
            kind=kind,
            survey=survey,
            since=since,
            until=until,
            department=department,
            channel=channel,
            touchpoint=touchpoint,
            segment=segment,
            compare=compare,
        )
    if as_json:
        print_json(result)
        return
    _show(result)


def _headline(kind: str, g: dict[str, Any]) -> list[str]:
    if kind == "nps":
        score = "—" if g["nps"] is None else f"{g['nps']:+.1f}"
        return [
            score,
            f"±{fmt(g['margin_of_error'])}",
            f"{g['promoters']:,}",
            f"{g['passives']:,}",
            f"{g['detractors']:,}",
        ]
    if kind == "csat":
        return [f"{fmt(g['csat'])}%", f"±{fmt(g['margin_of_error'])}", f"{g['satisfied']:,}"]
    if kind == "ces":
        return [fmt(g["mean"], 2), f"±{fmt(g['margin_of_error'], 2)}", f"{fmt(g['easy_pct'])}%"]
    return [fmt(g.get("mean"), 2)]


HEADERS = {
    "nps": ["NPS", "margin", "promoters", "passives", "detractors"],
    "csat": ["CSAT", "margin", "satisfied"],
    "ces": ["CES", "margin", "easy"],
    "custom": ["mean"],
}


def _show(result: dict[str, Any]) -> None:
    kind, by = result["kind"], result["by"]
    table = Table(title=f"{kind.upper()}" + (f" — {result['survey']}" if result["survey"] else ""))
    keys = [k for k in (by, "period" if result["period"] else None) if k]
    for key in keys:
        table.add_column(key)
    for name in HEADERS[kind]:
        table.add_column(name, justify="right")
    table.add_column("n", justify="right")
    table.add_column("note")
    for g in result["groups"]:
        note = "too few answers to read" if g["too_small"] else ""
        vs = g.get("vs_rest") or g.get("vs_all")
        if vs and vs.get("significant"):
            side = "above" if vs["difference"] > 0 else "below"
            note = f"significantly {side} the rest (p={vs['p_value']:.3f})"
        table.add_row(
            *[str(g.get(k) if g.get(k) is not None else "(none)") for k in keys],
            *_headline(kind, g),
            f"{g['n']:,}",
            note,
        )
    overall = result["overall"]
    table.add_row(
        *(["all"] + [""] * (len(keys) - 1) if keys else []),
        *_headline(kind, overall),
        f"{overall['n']:,}",
        "too few answers to read" if overall["too_small"] else "",
        style="bold",
    )
    out.print(table)
    if "comparison" in result:
        c = result["comparison"]
        verdict = "significant" if c["significant"] else "not significant"
        out.print(
            f"{c['a'][by]} vs {c['b'][by]}: {c['difference']:+.1f} points "
            f"(±{fmt(c['margin_of_error'])}, p={c['p_value']:.3f}): {verdict}"
        )


@app.command("list")
@clean_errors
def list_surveys(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every survey with invitations sent, answers and response rate."""
    from hxpulse.surveys import service

    with _engine(ctx).connect() as conn:
        items = service.list_surveys(conn)
    if as_json:
        print_json(items)
        return
    table = Table(title="Surveys")
    for name in ("id", "name", "kind", "target", "invited", "answers", "response rate", "active"):
        table.add_column(name)
    for s in items:
        target = ", ".join(
            p
            for p in (
                s["department"],
                s["touchpoint"],
                s["trigger_event"] and f"after {s['trigger_event']}",
                s["every_days"] and f"every {s['every_days']} days",
            )
            if p
        )
        rate = "—" if s["response_rate"] is None else f"{s['response_rate']:.1f}%"
        table.add_row(
            str(s["id"]),
            s["name"],
            s["kind"],
            target or "—",
            f"{s['invited']:,}",
            f"{s['responses']:,}",
            rate,
            "yes" if s["active"] else "paused",
        )
    out.print(table)


@app.command("create")
@clean_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The survey's name.")],
    kind: Annotated[str, typer.Option("--kind", help="nps, csat, ces or custom")] = "nps",
    question: Annotated[str | None, typer.Option("--question")] = None,
    department: Annotated[str | None, typer.Option("--department")] = None,
    touchpoint: Annotated[str | None, typer.Option("--touchpoint")] = None,
    trigger: Annotated[
        str | None, typer.Option("--after", help="Invite after each event of this type.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Define a survey (follow-up questions per score band get the kind's defaults)."""
    from hxpulse.db.engine import run_write
    from hxpulse.surveys import service

    config = settings(ctx)
    data = service.parse_survey(
        {
            "name": name,
            "kind": kind,
            "question": question,
            "department": department,
            "touchpoint": touchpoint,
            "trigger_event": trigger,
        }
    )
    made = run_write(
        engine(ctx),
        lambda conn: service.create(conn, data, settings=config.surveys, now=datetime.now(UTC)),
    )
    if as_json:
        print_json(made)
        return
    out.print(f"Survey {made['id']} {made['name']!r} ({made['kind']}): {made['question']}")


def _secret(ctx: typer.Context) -> str:
    from hxpulse.auth import service as auth

    config = settings(ctx)
    if config.secret_key:
        return config.secret_key
    with engine(ctx).begin() as conn:
        return auth.session_secret(conn)


@app.command("invite")
@clean_errors
def invite(
    ctx: typer.Context,
    survey: Annotated[str, typer.Argument(help="The survey (name or id).")],
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="A customer id or identity (repeatable).")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Every member of it.")] = None,
    via: Annotated[
        str | None,
        typer.Option(
            "--via", help=escape("email or link (default: email when [smtp] host is set)")
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Invite customers (fatigue-guarded); prints each link, and who was skipped and why."""
    from hxpulse.surveys import sending, service

    config = settings(ctx)
    built = _engine(ctx)
    now = datetime.now(UTC)
    with built.connect() as conn:
        found = service.find(conn, survey)
        ids = sending.targets(conn, config, customers=customer or [], segment=segment, now=now)
    result = sending.send(built, config, _secret(ctx), found, ids, via=via, now=now)
    if as_json:
        print_json(result.to_dict())
        return
    for item in result.invited:
        out.print(f"invited {item.customer_id}: {item.email or item.link}")
    for skipped in result.skipped:
        out.print(f"skipped {skipped['customer_id']}: {escape(skipped['reason'])}")
    console.print(f"{len(result.invited):,} invited, {len(result.skipped):,} skipped")


@app.command("run")
@clean_errors
def run(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Send rule-based invitations now: after trigger events, and recurring surveys' turn
    (run it daily, e.g. from cron)."""
    from hxpulse.surveys import sending

    results = sending.run_due(_engine(ctx), settings(ctx), _secret(ctx))
    data = {name: r.to_dict() for name, r in results.items()}
    if as_json:
        print_json(data)
        return
    if not data:
        out.print("No invitations are due.")
    for name, r in data.items():
        out.print(f"{name}: {r['counts']['invited']:,} invited, {r['counts']['skipped']:,} skipped")


@clean_errors
def responses(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of answers.")],
    create_survey: Annotated[
        str | None,
        typer.Option(
            "--create-survey", help="Create unknown surveys of this kind (nps, csat, ces, custom)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import answers to surveys run elsewhere; bad rows go to FILE.rejects.csv."""
    from hxpulse.surveys.importer import import_responses

    check_file(file)
    summary = import_responses(engine(ctx), settings(ctx), file, create_kind=create_survey)
    finish(summary, as_json)
