"""The NPS page `/nps`: NPS, CSAT or CES for the filters chosen, its trend with the margin of
error, the promoter/passive/detractor mix, a breakdown that says which groups differ
significantly, the themes of the answers' whys (discover, rename, merge) and the latest answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import ColumnElement, Connection, select
from starlette.datastructures import FormData
from starlette.responses import Response

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.base import parse_id
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, DbId, EngineDep, SettingsDep, SurveysRead, SurveysWrite
from hxpulse.errors import Invalid, NotFound
from hxpulse.events import moments
from hxpulse.events.models import CHANNELS
from hxpulse.segments import service as segments
from hxpulse.surveys import report, service, themes
from hxpulse.surveys.forms import FormDep, segment_names, text
from hxpulse.web.render import page

router = APIRouter()
METRIC = {"nps": "nps", "csat": "csat", "ces": "mean"}
UNITS = {"nps": "points", "csat": "% satisfied", "ces": "mean effort score, 1–7"}
BY = ("department", "channel", "touchpoint", "segment", "survey")
MIX = ("promoters", "passives", "detractors")
FILTERS = (
    "kind",
    "survey",
    "period",
    "since",
    "until",
    "department",
    "channel",
    "touchpoint",
    "segment",
    "by",
)


@dataclass
class NpsFilters:
    kind: str = "nps"
    survey: dict[str, Any] | None = None
    period: str = "week"
    since: date | None = None
    until: date | None = None
    department: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    segment: dict[str, Any] | None = None
    by: str = "department"
    errors: list[dict[str, str]] = field(default_factory=list)

    def scope(self) -> dict[str, Any]:
        """The filters `report.report` takes."""
        return dict(
            kind=self.kind,
            survey=self.survey,
            since=self.since,
            until=self.until,
            department=self.department,
            channel=self.channel,
            touchpoint=self.touchpoint,
            segment=self.segment,
        )

    def answers_scope(self) -> dict[str, Any]:
        """The filters `report.latest_answers` takes: all but the segment."""
        scope = self.scope()
        del scope["segment"]
        survey = scope.pop("survey")
        return {**scope, "survey_id": survey["id"] if survey else None}


def _nps_filters(conn: Connection, form: dict[str, str]) -> NpsFilters:
    got = NpsFilters(department=form["department"] or None, touchpoint=form["touchpoint"] or None)

    def bad(name: str, message: str) -> None:
        got.errors.append({"field": name, "message": message})

    for name, allowed in (
        ("kind", METRIC),
        ("period", report.PERIODS),
        ("by", BY),
        ("channel", CHANNELS),
    ):
        if form[name] and form[name] not in allowed:
            bad(name, f"must be one of {', '.join(allowed)}")
        elif form[name]:
            setattr(got, name, form[name])
    for name in ("since", "until"):
        try:
            setattr(got, name, moments.parse_day(form[name], name))
        except Invalid as exc:
            bad(name, exc.errors[0]["message"])
    for name, getter in (("survey", service.get), ("segment", segments.get)):
        if not form[name]:
            continue
        try:
            if (number := parse_id(form[name])) is None:
                raise NotFound(f"no {name} with id {form[name]!r}")
            setattr(got, name, getter(conn, number))
        except NotFound as exc:
            bad(name, exc.message)
    if got.survey is not None and form["kind"] and got.survey["kind"] != form["kind"]:
        got.survey = None  # the measure changed since the survey was chosen: all its surveys
    if got.survey is not None:
        got.kind = got.survey["kind"]
        if got.kind not in METRIC:
            bad("survey", f"a {got.kind} survey has no NPS, CSAT or CES to report")
    return got


def _figure(kind: str, group: dict[str, Any]) -> dict[str, Any]:
    """A group's figure with its 95 % interval, whatever the kind."""
    value, margin = group.get(METRIC[kind]), group.get("margin_of_error")
    low, high = group.get("low"), group.get("high")
    if kind == "ces" and value is not None and margin is not None:
        low, high = value - margin, value + margin
    return {
        "value": value,
        "margin": margin,
        "low": low,
        "high": high,
        "n": group["n"],
        "too_small": group["too_small"],
    }


def _versus(group: dict[str, Any]) -> dict[str, Any] | None:
    """The group against the others: the mark, its words and the p-value."""
    compared = group.get("vs_rest") or group.get("vs_all")
    if not compared or compared.get("difference") is None:
        return None
    other = "the rest" if group.get("vs_rest") else "everyone"
    difference, p = compared["difference"], compared["p_value"]
    detail = f"{difference:+.1f} points against {other}" + (
        f", p = {p:.3f}" if p is not None else ""
    )
    if not compared["significant"]:
        return {"mark": "", "text": f"not significantly different from {other}", "title": detail}
    above = difference > 0
    return {
        "mark": "▲" if above else "▼",
        "direction": "above" if above else "below",
        "text": f"significantly {'above' if above else 'below'} {other}",
        "title": detail,
    }


def _impact(impact: float | None) -> str:
    if impact is None:
        return "not enough answers to tell"
    if impact == 0:
        return "NPS would be the same without it"
    side = "higher" if impact > 0 else "lower"
    return f"NPS would be {abs(impact):.1f} points {side} without it"


def _theme_where(
    conn: Connection, settings: Settings, got: NpsFilters, now: datetime
) -> list[ColumnElement[bool]]:
    """The NPS answers the page's filters select, as conditions on `survey_responses`."""
    r, s = report.responses_t, report.surveys_t
    where = [
        r.c.survey_id == got.survey["id"]
        if got.survey
        else r.c.survey_id.in_(select(s.c.id).where(s.c.kind == "nps"))
    ]
    if got.since:
        where.append(r.c.answered_at >= datetime.combine(got.since, time(), UTC))
    if got.until:
        where.append(r.c.answered_at < datetime.combine(got.until + timedelta(days=1), time(), UTC))
    for name in ("department", "channel", "touchpoint"):
        if getattr(got, name):
            where.append(r.c[name] == getattr(got, name))
    if got.segment is not None:
        members = segments.condition(conn, settings.live, got.segment["definition"], now)
        where.append(r.c.customer_id.in_(select(report.customers_t.c.id).where(members)))
    return where


def _mix(kind: str, group: dict[str, Any]) -> dict[str, float | None]:
    """Promoters, passives and detractors in percent of an NPS group's answers."""
    if kind != "nps" or not group["n"]:
        return {name: None for name in MIX} if kind == "nps" else {}
    return {name: round(100 * group[name] / group["n"], 1) for name in MIX}


def _trend(kind: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [{"period": g["period"], **_figure(kind, g)} for g in groups]
    chart: dict[str, Any] = {
        key: [row[key] for row in rows] for key in ("value", "low", "high", "n")
    }
    chart.update(x=[row["period"] for row in rows], label=kind.upper(), bars=None,
                 labels=[report.period_label(row["period"]) for row in rows])  # fmt: skip
    if kind == "nps":
        for row, group in zip(rows, groups, strict=True):
            row.update(_mix(kind, group))
        chart["bars"] = {name: [row[name] for row in rows] for name in MIX}
    return {"rows": rows, "chart": chart}


@router.get("/nps")
def nps_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: SurveysRead,
    kind: str = Query("", max_length=10),
    survey: str = Query("", max_length=20),
    period: str = Query("", max_length=10),
    since: str = Query("", max_length=20),
    until: str = Query("", max_length=20),
    department: str = Query("", max_length=100),
    channel: str = Query("", max_length=20),
    touchpoint: str = Query("", max_length=100),
    segment: str = Query("", max_length=20),
    by: str = Query("", max_length=20),
) -> Response:
    given = (kind, survey, period, since, until, department, channel, touchpoint, segment, by)
    form = {name: value.strip() for name, value in zip(FILTERS, given, strict=True)}
    got = _nps_filters(conn, form)
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "form": form,
        "got": got,
        "channels": CHANNELS,
        "periods": report.PERIODS,
        "by_options": BY,
        "kinds": METRIC,
        "units": UNITS,
        "surveys": service.list_surveys(conn),
        "segments": segment_names(conn, settings),
        "back": urlencode({k: v for k, v in form.items() if v}),
    }
    if not got.errors:
        try:
            trend = report.report(conn, settings.live, period=got.period, now=now, **got.scope())
            split = report.report(conn, settings.live, by=got.by, now=now, **got.scope())
        except Invalid as exc:
            got.errors += exc.errors
    if got.errors:
        return page(request, "nps.html", status_code=400, **context)
    overall = trend["overall"]
    latest = report.latest_answers(conn, limit=20, **got.answers_scope())
    context.update(
        overall={**_figure(got.kind, overall), "mix": _mix(got.kind, overall)},
        trend=_trend(got.kind, trend["groups"]),
        groups=[
            {"name": g[got.by], **_figure(got.kind, g), "versus": _versus(g)}
            for g in split["groups"]
        ],
        latest=latest,
        names=queries.display_names(conn, [a["customer_id"] for a in latest]),
        impact=_impact,
    )
    if got.kind == "nps":
        context["drivers"] = themes.drivers(conn, where=_theme_where(conn, settings, got, now))
    return page(request, "nps.html", **context)


def _back(form: FormData) -> RedirectResponse:
    """Back to the NPS page with the filters it had (only those: never another address)."""
    kept = [(k, v) for k, v in parse_qsl(text(form, "back")) if k in FILTERS]
    query = f"?{urlencode(kept)}" if kept else ""
    return RedirectResponse(f"/nps{query}#themes", status_code=303)


@router.post("/nps/themes/fit")
def fit_themes(engine: EngineDep, _actor: SurveysWrite, form: FormDep) -> Response:
    """Discover themes again from every answer's why."""
    now = datetime.now(UTC)
    run_write(engine, lambda conn: themes.fit(conn, now=now))
    return _back(form)


@router.post("/nps/themes/{theme_id}/rename")
def rename_theme(
    theme_id: DbId, engine: EngineDep, _actor: SurveysWrite, form: FormDep
) -> Response:
    run_write(engine, lambda conn: themes.rename(conn, theme_id, text(form, "name")))
    return _back(form)


@router.post("/nps/themes/{theme_id}/merge")
def merge_theme(theme_id: DbId, engine: EngineDep, _actor: SurveysWrite, form: FormDep) -> Response:
    into = parse_id(text(form, "into"))
    if into is None:
        raise Invalid(
            "into: choose the theme to merge into",
            errors=[{"field": "into", "message": "choose a theme"}],
        )
    run_write(engine, lambda conn: themes.merge(conn, theme_id, into))
    return _back(form)
