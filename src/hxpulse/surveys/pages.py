"""HTML pages: the public survey page `/s/{token}`, the Surveys pages and the NPS page.

The public page needs no session and sets none: the signed, expiring token in its URL is the
capability. An answer is recorded once, at the end: choosing a score only shows the follow-up
question of that score's band (on a second page that carries the score in a hidden field, or,
with JavaScript, on the same page), and Submit or Skip records score and why together as one
`survey_response` event, keyed by the invitation, inside one write transaction that checks the
invitation is still unanswered. A visitor who leaves after the score leaves nothing stored: the
invitation stays opened but unanswered, and its link keeps working until it expires.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import ColumnElement, Connection, Engine, select
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from hxpulse.config import Settings
from hxpulse.customers import queries as customer_queries
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, CurrentUser, EngineDep, SettingsDep
from hxpulse.errors import HXError, Invalid, NotFound
from hxpulse.events.models import CHANNELS
from hxpulse.events.schemas import as_utc
from hxpulse.segments import service as segments
from hxpulse.surveys import kinds, links, report, sending, service, themes
from hxpulse.surveys.schemas import SurveyIn
from hxpulse.web import csrf
from hxpulse.web.body import read_limited
from hxpulse.web.render import page

router = APIRouter()
MAX_WHY = 5000
MAX_PUBLIC_BODY = 100 * 1024  # a why of MAX_WHY characters, percent-encoded, fits
URLENCODED = "application/x-www-form-urlencoded"
SHOWN_INVITES = 200  # a segment's invitation links beyond these are left to the API and CLI
PUBLIC_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex",
}
PROBLEMS = {
    "forged": (
        404,
        "This link is not valid",
        "Please open the link exactly as it came in your invitation.",
    ),
    "expired": (
        410,
        "This link has expired",
        "Survey links are valid for a limited time. Thank you for your interest.",
    ),
    "used": (410, "This link has already been used", "Thank you, we have your answer."),
}


async def _form(request: Request) -> AsyncIterator[FormData]:
    """A signed-in person's form (closed, uploads and all, once the response is made)."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


async def _public_form(request: Request) -> FormData:
    """A customer's form: URL-encoded fields within a size limit; anything else reads as empty
    (so a public page never spools uploads to disk)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != URLENCODED:
        return FormData()
    body = await read_limited(request, MAX_PUBLIC_BODY)
    fields: list[tuple[str, str | UploadFile]] = []
    fields += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return FormData(fields)


FormDep = Annotated[FormData, Depends(_form)]
PublicFormDep = Annotated[FormData, Depends(_public_form)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# ---------------------------------------------------------------- the public survey page


class _Closed(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _public(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page for customers: no session, no sign-in, not cached, not indexed."""
    settings: Settings = request.app.state.settings
    templates: Jinja2Templates = request.app.state.templates
    context.setdefault("brand", settings.surveys.brand)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(PUBLIC_HEADERS)
    return response


def _closed(request: Request, problem: str) -> Response:
    status, title, text = PROBLEMS[problem]
    return _public(request, "survey_link.html", status, problem=problem, title=title, text=text)


def _open(
    request: Request, conn: Connection, token: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The invitation `token` opens and its survey; raises _Closed with the reason."""
    settings: Settings = request.app.state.settings
    if len(token) > 200:
        raise _Closed("forged")
    try:
        invitation_id = links.read(
            request.app.state.secret, token, max_age_seconds=settings.surveys.link_days * 86400
        )
    except links.LinkError as exc:
        raise _Closed(exc.problem) from None
    found = service.invitation(conn, invitation_id)
    if found is None:
        raise _Closed("forged")
    if found["answered_at"] is not None:
        raise _Closed("used")
    if as_utc(found["expires_at"]) <= now:
        raise _Closed("expired")
    return found, service.get(conn, found["survey_id"])


def _ask(
    request: Request,
    token: str,
    survey: dict[str, Any],
    error: str | None = None,
) -> Response:
    spec = kinds.spec(survey["kind"])
    bands = [
        {"name": b.name, "low": b.low, "high": b.high, "question": survey["followups"][b.name]}
        for b in spec.bands
    ]
    return _public(
        request,
        "survey_public.html",
        400 if error else 200,
        token=token,
        survey=survey,
        scores=list(range(spec.low, spec.high + 1)),
        bands=bands,
        error=error,
    )


def _follow_up(
    request: Request,
    token: str,
    survey: dict[str, Any],
    score: int,
    why: str = "",
    error: str | None = None,
) -> Response:
    question = survey["followups"][kinds.band_of(survey["kind"], score)]
    return _public(
        request,
        "survey_followup.html",
        400 if error else 200,
        token=token,
        survey=survey,
        score=score,
        question=question,
        why=why,
        error=error,
    )


def _score(survey: dict[str, Any], raw: str) -> int | None:
    """The score posted, if it is a whole number on the survey's scale."""
    spec = kinds.spec(survey["kind"])
    if not re.fullmatch(r"-?[0-9]{1,3}", raw):
        return None
    return int(raw) if spec.low <= int(raw) <= spec.high else None


def _record(
    conn: Connection, settings: Settings, invitation_id: int, score: int, why: str, now: datetime
) -> str | None:
    """Record the invitation's answer, once: None when stored, else why it was not."""
    found = service.invitation(conn, invitation_id)  # read again inside the write transaction
    if found is None:
        return "forged"
    if found["answered_at"] is not None:
        return "used"
    customer_id = customer_queries.live_id(conn, found["customer_id"])
    identities = service.customer_identities(conn, customer_id) if customer_id else []
    if not identities:  # the customer was erased since the invitation went out
        return "forged"
    answer = service.Answer(
        survey=service.get(conn, found["survey_id"]),
        score=score,
        answered_at=now,
        identities=identities,
        message_id=f"invitation-{invitation_id}",
        why=why or None,
        channel="email" if found["via"] == "email" else "web",
        invitation_id=invitation_id,
    )
    stored = service.record(conn, [answer], settings=settings.surveys, live=settings.live, now=now)
    return None if stored.stored else "used"  # its message id was taken: a double submit


@router.get("/s/{token}")
def survey_page(request: Request, token: str, conn: ConnDep, engine: EngineDep) -> Response:
    now = datetime.now(UTC)
    try:
        found, survey = _open(request, conn, token, now)
    except _Closed as closed:
        return _closed(request, closed.problem)
    run_write(engine, lambda write: service.mark_opened(write, found["id"], now))
    return _ask(request, token, survey)


@router.post("/s/{token}")
def answer_survey(
    request: Request,
    token: str,
    conn: ConnDep,
    engine: EngineDep,
    settings: SettingsDep,
    form: PublicFormDep,
) -> Response:
    # No CSRF token: the visitor has no session. The signed token in the URL is the capability:
    # whoever holds the link may answer, once, and a forged post cannot do more than that.
    now = datetime.now(UTC)
    try:
        found, survey = _open(request, conn, token, now)
    except _Closed as closed:
        return _closed(request, closed.problem)
    score = _score(survey, _text(form, "score"))
    if score is None:
        spec = kinds.spec(survey["kind"])
        return _ask(request, token, survey, f"Please pick a score from {spec.low} to {spec.high}.")
    step, why = _text(form, "step"), _text(form, "why")
    if step not in ("why", "skip"):
        return _follow_up(request, token, survey, score, why)
    if step == "why" and len(why) > MAX_WHY:
        return _follow_up(
            request,
            token,
            survey,
            score,
            why,
            f"Please keep your answer under {MAX_WHY:,} characters.",
        )
    kept = why if step == "why" else ""
    problem = run_write(
        engine, lambda write: _record(write, settings, found["id"], score, kept, now)
    )
    if problem is not None:
        return _closed(request, problem)
    return _public(request, "survey_thanks.html", survey=survey)


# ---------------------------------------------------------------- the Surveys pages


@dataclass
class SurveyForm:
    """What the survey form shows: the values as typed, and errors by field."""

    values: dict[str, Any]
    followups: dict[str, dict[str, str]]  # kind -> band -> question
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


FIELDS = (
    "name",
    "kind",
    "question",
    "department",
    "touchpoint",
    "trigger_event",
    "segment_id",
    "every_days",
)
RECURRING = "give both a segment and how often (every N days), or neither"


def _blank() -> SurveyForm:
    values: dict[str, Any] = {name: "" for name in FIELDS}
    values.update(kind="nps", active=True)
    return SurveyForm(values, {k: kinds.default_followups(k) for k in kinds.KIND_NAMES})


def _form_of(survey: dict[str, Any], settings: Settings) -> SurveyForm:
    shown = _blank()
    for name in FIELDS:
        shown.values[name] = "" if survey[name] is None else str(survey[name])
    if survey["question"] == kinds.default_question(survey["kind"], settings.surveys.brand):
        shown.values["question"] = ""  # the placeholder shows it, and it follows the kind
    shown.values["active"] = bool(survey["active"])
    shown.followups[survey["kind"]] = dict(survey["followups"])
    return shown


def _read_survey(form: FormData) -> tuple[SurveyForm, SurveyIn | None]:
    """The survey form as typed, and the survey it defines (None when something is wrong)."""
    shown = _blank()
    shown.values.update({name: _text(form, name) for name in FIELDS})
    shown.values["active"] = form.get("active") is not None
    for kind in kinds.KIND_NAMES:
        shown.followups[kind] = {
            band: _text(form, f"followups.{kind}.{band}") for band in kinds.default_followups(kind)
        }
    kind = shown.values["kind"]
    defaults = kinds.default_followups(kind) if kind in kinds.SPECS else {}
    data: dict[str, Any] = {name: shown.values[name] or None for name in FIELDS}
    data["name"] = shown.values["name"]  # empty: "at least 1 character", next to the name
    data.update(
        active=shown.values["active"],
        kind=kind or "nps",
        followups={
            band: text
            for band, text in shown.followups.get(kind, {}).items()
            if text and text != defaults.get(band)
        },
    )
    if bool(data["segment_id"]) != bool(data["every_days"]):
        shown.errors["segment_id" if not data["segment_id"] else "every_days"] = RECURRING
    try:
        parsed = service.parse_survey(data)
    except Invalid as exc:
        _add_errors(shown, exc)
        return shown, None
    return shown, None if shown.errors else parsed


def _add_errors(shown: SurveyForm, exc: HXError) -> None:
    if isinstance(exc, NotFound) and "segment" in exc.message:
        shown.errors["segment_id"] = exc.message
    elif not exc.errors:
        shown.general.append(exc.message)
    for error in exc.errors:
        name, message = str(error["field"]), str(error["message"]).removeprefix("Value error, ")
        if name.startswith("followups.") and name.count(".") == 1:
            name = f"followups.{shown.values['kind']}.{name.split('.', 1)[1]}"
        if name in (*FIELDS, "active") or name.startswith("followups."):
            shown.errors.setdefault(name, message)
        elif not (RECURRING in shown.errors.values() and "recurring" in message):
            shown.general.append(message)


def _segment_names(conn: Connection, settings: Settings) -> dict[int, str]:
    found = segments.list_segments(conn, settings.live, datetime.now(UTC), counts=False)
    return {int(s["id"]): str(s["name"]) for s in found}


def _target(survey: dict[str, Any], names: dict[int, str]) -> list[str]:
    parts = []
    if survey["department"]:
        parts.append(f"department {survey['department']}")
    if survey["touchpoint"]:
        parts.append(f"touchpoint {survey['touchpoint']}")
    if survey["trigger_event"]:
        parts.append(f"after each {survey['trigger_event']}")
    if survey["segment_id"] is not None:
        segment = names.get(survey["segment_id"], f"#{survey['segment_id']}")
        parts.append(f"segment {segment}, every {survey['every_days']} days")
    return parts


@router.get("/surveys")
def surveys_page(
    request: Request, conn: ConnDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    items = service.list_surveys(conn)
    names = _segment_names(conn, settings)
    for item in items:
        item["target"] = _target(item, names)
    return page(request, "surveys.html", user=user, items=items)


def _survey_page(
    request: Request,
    engine: Engine,
    settings: Settings,
    survey_id: int | None,
    shown: SurveyForm | None = None,
    invite: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The survey form (new, or one survey's with its figures and the invitation form)."""
    with engine.connect() as conn:
        survey = None
        if survey_id is not None:
            survey = next((s for s in service.list_surveys(conn) if s["id"] == survey_id), None)
            if survey is None:
                raise NotFound(f"no survey with id {survey_id}")
        names = _segment_names(conn, settings)
    brand = settings.surveys.brand
    return page(
        request,
        "survey_form.html",
        status_code=status_code,
        survey=survey,
        form=shown or (_form_of(survey, settings) if survey else _blank()),
        specs=kinds.SPECS,
        questions={k: kinds.default_question(k, brand) for k in kinds.SPECS},
        segment_names=names,
        target=_target(survey, names) if survey else [],
        invite=invite or {"customer": "", "segment": "", "via": "link", "errors": []},
        can_email=settings.smtp.host is not None,
    )


@router.get("/surveys/new")
def new_survey_page(
    request: Request, engine: EngineDep, settings: SettingsDep, _user: CurrentUser
) -> Response:
    return _survey_page(request, engine, settings, None)


@router.post("/surveys/new")
def create_survey(
    request: Request, engine: EngineDep, settings: SettingsDep, _user: CurrentUser, form: FormDep
) -> Response:
    csrf.check(request, _text(form, "csrf_token"))
    shown, data = _read_survey(form)
    if data is not None:
        now = datetime.now(UTC)
        try:
            made = run_write(
                engine, lambda conn: service.create(conn, data, settings=settings.surveys, now=now)
            )
        except HXError as exc:
            _add_errors(shown, exc)
        else:
            return RedirectResponse(f"/surveys/{made['id']}", status_code=303)
    return _survey_page(request, engine, settings, None, shown, status_code=400)


@router.get("/surveys/{survey_id}")
def survey_edit_page(
    request: Request, survey_id: int, engine: EngineDep, settings: SettingsDep, _user: CurrentUser
) -> Response:
    return _survey_page(request, engine, settings, survey_id)


@router.post("/surveys/{survey_id}")
def update_survey(
    request: Request,
    survey_id: int,
    engine: EngineDep,
    settings: SettingsDep,
    _user: CurrentUser,
    form: FormDep,
) -> Response:
    csrf.check(request, _text(form, "csrf_token"))
    with engine.connect() as conn:
        service.get(conn, survey_id)  # an unknown survey: the 404 page
    shown, data = _read_survey(form)
    if data is not None:
        now = datetime.now(UTC)
        try:
            run_write(
                engine,
                lambda conn: service.update_survey(
                    conn, survey_id, data, settings=settings.surveys, now=now
                ),
            )
        except HXError as exc:
            _add_errors(shown, exc)
        else:
            return RedirectResponse(f"/surveys/{survey_id}", status_code=303)
    return _survey_page(request, engine, settings, survey_id, shown, status_code=400)


@router.post("/surveys/{survey_id}/invite")
def invite(
    request: Request,
    survey_id: int,
    engine: EngineDep,
    settings: SettingsDep,
    _user: CurrentUser,
    form: FormDep,
) -> Response:
    """Invite one customer or a segment's members; show their links and who was held back."""
    csrf.check(request, _text(form, "csrf_token"))
    state: dict[str, Any] = {
        "customer": _text(form, "customer"),
        "segment": _text(form, "segment"),
        "via": _text(form, "via") or "link",
        "errors": [],
    }
    now = datetime.now(UTC)
    customers = [state["customer"]] if state["customer"] else []
    with engine.connect() as conn:
        survey = service.get(conn, survey_id)  # an unknown survey: the 404 page
    try:
        with engine.connect() as conn:
            ids = sending.targets(
                conn, settings, customers=customers, segment=state["segment"] or None, now=now
            )
        result = sending.send(
            engine, settings, request.app.state.secret, survey, ids, via=state["via"], now=now
        )
    except HXError as exc:
        state["errors"] = [exc.message]
        return _survey_page(request, engine, settings, survey_id, invite=state, status_code=400)
    state["result"] = result
    state["shown"] = SHOWN_INVITES
    return _survey_page(request, engine, settings, survey_id, invite=state)


# ---------------------------------------------------------------- the NPS page

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
            setattr(got, name, date.fromisoformat(form[name]) if form[name] else None)
        except ValueError:
            bad(name, "give a date as YYYY-MM-DD")
    for name, getter in (("survey", service.get), ("segment", segments.get)):
        if not form[name]:
            continue
        try:
            if not form[name].isdigit():
                raise NotFound(f"no {name} with id {form[name]!r}")
            setattr(got, name, getter(conn, int(form[name])))
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
    chart.update(x=[row["period"] for row in rows], label=kind.upper(), bars=None)
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
    user: CurrentUser,
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
    form = {
        name: value.strip()
        for name, value in dict(
            kind=kind,
            survey=survey,
            period=period,
            since=since,
            until=until,
            department=department,
            channel=channel,
            touchpoint=touchpoint,
            segment=segment,
            by=by,
        ).items()
    }
    got = _nps_filters(conn, form)
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "user": user,
        "form": form,
        "got": got,
        "channels": CHANNELS,
        "periods": report.PERIODS,
        "by_options": BY,
        "kinds": METRIC,
        "units": UNITS,
        "surveys": service.list_surveys(conn),
        "segments": _segment_names(conn, settings),
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
    context.update(
        overall={**_figure(got.kind, overall), "mix": _mix(got.kind, overall)},
        trend=_trend(got.kind, trend["groups"]),
        groups=[
            {"name": g[got.by], **_figure(got.kind, g), "versus": _versus(g)}
            for g in split["groups"]
        ],
        latest=report.latest_answers(conn, limit=20, kind=got.kind),
        impact=_impact,
    )
    if got.kind == "nps":
        context["drivers"] = themes.drivers(conn, where=_theme_where(conn, settings, got, now))
    return page(request, "nps.html", **context)


def _back(form: FormData) -> RedirectResponse:
    """Back to the NPS page with the filters it had (only those: never another address)."""
    kept = [(k, v) for k, v in parse_qsl(_text(form, "back")) if k in FILTERS]
    query = f"?{urlencode(kept)}" if kept else ""
    return RedirectResponse(f"/nps{query}#themes", status_code=303)


@router.post("/nps/themes/fit")
def fit_themes(request: Request, engine: EngineDep, _user: CurrentUser, form: FormDep) -> Response:
    """Discover themes again from every answer's why."""
    csrf.check(request, _text(form, "csrf_token"))
    now = datetime.now(UTC)
    run_write(engine, lambda conn: themes.fit(conn, now=now))
    return _back(form)


@router.post("/nps/themes/{theme_id}/rename")
def rename_theme(
    request: Request, theme_id: int, engine: EngineDep, _user: CurrentUser, form: FormDep
) -> Response:
    csrf.check(request, _text(form, "csrf_token"))
    run_write(engine, lambda conn: themes.rename(conn, theme_id, _text(form, "name")))
    return _back(form)


@router.post("/nps/themes/{theme_id}/merge")
def merge_theme(
    request: Request, theme_id: int, engine: EngineDep, _user: CurrentUser, form: FormDep
) -> Response:
    csrf.check(request, _text(form, "csrf_token"))
    into = _text(form, "into")
    if not into.isdigit():
        raise Invalid(
            "into: choose the theme to merge into",
            errors=[{"field": "into", "message": "choose a theme"}],
        )
    run_write(engine, lambda conn: themes.merge(conn, theme_id, int(into)))
    return _back(form)
