"""The Surveys pages: the list with each survey's figures, the form to create or edit a survey,
and invitations (one customer or a segment's members) with their links.

`router` also carries the public survey page (surveys/public.py) and the NPS page
(surveys/nps_page.py), so the application includes this one router for every survey page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine
from starlette.responses import Response

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import (
    ConnDep,
    DbId,
    EngineDep,
    SettingsDep,
    SurveysInvite,
    SurveysRead,
    SurveysWrite,
)
from hxpulse.errors import HXError, NotFound
from hxpulse.surveys import forms, kinds, nps_page, public, sending, service
from hxpulse.surveys.forms import FormDep, segment_names, text
from hxpulse.web.render import page

router = APIRouter()
router.include_router(public.router)
router.include_router(nps_page.router)
SHOWN_INVITES = 200  # a segment's invitation links beyond these are left to the API and CLI


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
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: SurveysRead
) -> Response:
    items = service.list_surveys(conn)
    names = segment_names(conn, settings)
    for item in items:
        item["target"] = _target(item, names)
    return page(request, "surveys.html", items=items)


def _survey_page(
    request: Request,
    engine: Engine,
    settings: Settings,
    survey_id: int | None,
    shown: forms.SurveyForm | None = None,
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
        names = segment_names(conn, settings)
    brand = settings.surveys.brand
    return page(
        request,
        "survey_form.html",
        status_code=status_code,
        survey=survey,
        form=shown or (forms.form_of(survey, settings) if survey else forms.blank()),
        specs=kinds.SPECS,
        questions={k: kinds.default_question(k, brand) for k in kinds.SPECS},
        segment_names=names,
        target=_target(survey, names) if survey else [],
        invite=invite or {"customer": "", "segment": "", "via": "link", "errors": []},
        can_email=settings.smtp.host is not None,
    )


@router.get("/surveys/new")
def new_survey_page(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SurveysWrite
) -> Response:
    return _survey_page(request, engine, settings, None)


@router.post("/surveys/new")
def create_survey(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SurveysWrite, form: FormDep
) -> Response:
    shown, data = forms.read_survey(form)
    if data is not None:
        now = datetime.now(UTC)
        try:
            made = run_write(
                engine, lambda conn: service.create(conn, data, settings=settings.surveys, now=now)
            )
        except HXError as exc:
            forms.add_errors(shown, exc)
        else:
            return RedirectResponse(f"/surveys/{made['id']}", status_code=303)
    return _survey_page(request, engine, settings, None, shown, status_code=400)


@router.get("/surveys/{survey_id}")
def survey_edit_page(
    request: Request, survey_id: DbId, engine: EngineDep, settings: SettingsDep, _actor: SurveysRead
) -> Response:
    return _survey_page(request, engine, settings, survey_id)


@router.post("/surveys/{survey_id}")
def update_survey(
    request: Request,
    survey_id: DbId,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SurveysWrite,
    form: FormDep,
) -> Response:
    with engine.connect() as conn:
        service.get(conn, survey_id)  # an unknown survey: the 404 page
    shown, data = forms.read_survey(form)
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
            forms.add_errors(shown, exc)
        else:
            return RedirectResponse(f"/surveys/{survey_id}", status_code=303)
    return _survey_page(request, engine, settings, survey_id, shown, status_code=400)


@router.post("/surveys/{survey_id}/invite")
def invite(
    request: Request,
    survey_id: DbId,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SurveysInvite,
    form: FormDep,
) -> Response:
    """Invite one customer or a segment's members; show their links and who was held back."""
    state: dict[str, Any] = {
        "customer": text(form, "customer"),
        "segment": text(form, "segment"),
        "via": text(form, "via") or "link",
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
    listed = result.invited[:SHOWN_INVITES], result.skipped[:SHOWN_INVITES]
    with engine.connect() as conn:
        state["names"] = queries.display_names(conn, [i.customer_id for i in listed[0]]
                                               + [s["customer_id"] for s in listed[1]])  # fmt: skip
    return _survey_page(request, engine, settings, survey_id, invite=state)
