"""What the signed-in survey pages share: posted forms (their CSRF token checked), segment names
for the pickers, and the survey form (the values as typed, the survey they define, its errors
by field)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.datastructures import FormData

from hxpulse.config import Settings
from hxpulse.errors import HXError, Invalid, NotFound
from hxpulse.segments import service as segments
from hxpulse.surveys import kinds, service
from hxpulse.surveys.schemas import SurveyIn
from hxpulse.web import csrf
from hxpulse.web.text import checked_form

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


async def _form(request: Request) -> AsyncIterator[FormData]:
    """A signed-in person's form (closed, uploads and all, once the response is made)."""
    form = await request.form()
    try:
        yield checked_form(form)
    finally:
        await form.close()


def _checked(request: Request, form: Annotated[FormData, Depends(_form)]) -> FormData:
    """The form, once its CSRF token matches the session's (else the 403 page)."""
    csrf.check(request, text(form, "csrf_token"))
    return form


FormDep = Annotated[FormData, Depends(_checked)]


def text(form: FormData, name: str) -> str:
    """The field `name`, stripped; empty when missing or an upload."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def segment_names(conn: Connection, settings: Settings) -> dict[int, str]:
    found = segments.list_segments(conn, settings.live, datetime.now(UTC), counts=False)
    return {int(s["id"]): str(s["name"]) for s in found}


@dataclass
class SurveyForm:
    """What the survey form shows: the values as typed, and errors by field."""

    values: dict[str, Any]
    followups: dict[str, dict[str, str]]  # kind -> band -> question
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def blank() -> SurveyForm:
    values: dict[str, Any] = {name: "" for name in FIELDS}
    values.update(kind="nps", active=True)
    return SurveyForm(values, {k: kinds.default_followups(k) for k in kinds.KIND_NAMES})


def form_of(survey: dict[str, Any], settings: Settings) -> SurveyForm:
    shown = blank()
    for name in FIELDS:
        shown.values[name] = "" if survey[name] is None else str(survey[name])
    if survey["question"] == kinds.default_question(survey["kind"], settings.surveys.brand):
        shown.values["question"] = ""  # the placeholder shows it, and it follows the kind
    shown.values["active"] = bool(survey["active"])
    shown.followups[survey["kind"]] = dict(survey["followups"])
    return shown


def read_survey(form: FormData) -> tuple[SurveyForm, SurveyIn | None]:
    """The survey form as typed, and the survey it defines (None when something is wrong)."""
    shown = blank()
    shown.values.update({name: text(form, name) for name in FIELDS})
    shown.values["active"] = form.get("active") is not None
    for kind in kinds.KIND_NAMES:
        shown.followups[kind] = {
            band: text(form, f"followups.{kind}.{band}") for band in kinds.default_followups(kind)
        }
    kind = shown.values["kind"]
    defaults = kinds.default_followups(kind) if kind in kinds.SPECS else {}
    data: dict[str, Any] = {name: shown.values[name] or None for name in FIELDS}
    data["name"] = shown.values["name"]  # empty: "at least 1 character", next to the name
    data.update(
        active=shown.values["active"],
        kind=kind or "nps",
        followups={
            band: question
            for band, question in shown.followups.get(kind, {}).items()
            if question and question != defaults.get(band)
        },
    )
    if bool(data["segment_id"]) != bool(data["every_days"]):
        shown.errors["segment_id" if not data["segment_id"] else "every_days"] = RECURRING
    try:
        parsed = service.parse_survey(data)
    except Invalid as exc:
        add_errors(shown, exc)
        return shown, None
    return shown, None if shown.errors else parsed


def add_errors(shown: SurveyForm, exc: HXError) -> None:
    """Put the error `exc` next to the fields it names (the rest above the form)."""
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
