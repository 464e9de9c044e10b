"""The public survey page `/s/{token}`.

The page needs no session and sets none: the signed, expiring token in its URL is the
capability. An answer is recorded once, at the end: choosing a score only shows the follow-up
question of that score's band (on a second page that carries the score in a hidden field, or,
with JavaScript, on the same page), and Submit or Skip records score and why together as one
`survey_response` event, keyed by the invitation, inside one write transaction that checks the
invitation is still unanswered. A visitor who leaves after the score leaves nothing stored: the
invitation stays opened but unanswered, and its link keeps working until it expires.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from hxpulse.advocacy import service as advocacy
from hxpulse.config import Settings
from hxpulse.customers import queries as customer_queries
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, EngineDep, SettingsDep
from hxpulse.events.schemas import as_utc
from hxpulse.surveys import kinds, links, service
from hxpulse.surveys.forms import text
from hxpulse.web.body import read_limited
from hxpulse.web.render import Closed, public_page
from hxpulse.web.text import checked_form

router = APIRouter()
MAX_WHY = 5000
PROMOTER = kinds.SPECS["nps"].bands[-1].low  # 9: the thank-you page shows a referral link
MAX_PUBLIC_BODY = 100 * 1024  # a why of MAX_WHY characters, percent-encoded, fits
URLENCODED = "application/x-www-form-urlencoded"
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


async def _public_form(request: Request) -> FormData:
    """A customer's form: URL-encoded fields within a size limit; anything else reads as empty
    (so a public page never spools uploads to disk)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != URLENCODED:
        return FormData()
    body = await read_limited(request, MAX_PUBLIC_BODY)
    fields: list[tuple[str, str | UploadFile]] = []
    fields += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return checked_form(FormData(fields))


PublicFormDep = Annotated[FormData, Depends(_public_form)]


def _closed(request: Request, problem: str) -> Response:
    status, title, text = PROBLEMS[problem]
    return public_page(request, "survey_link.html", status, problem=problem, title=title, text=text)


def _open(
    request: Request, conn: Connection, token: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The invitation `token` opens and its survey; raises Closed with the reason."""
    settings: Settings = request.app.state.settings
    if len(token) > 200:
        raise Closed("forged")
    try:
        invitation_id = links.read(
            request.app.state.secret, token, max_age_seconds=settings.surveys.link_days * 86400
        )
    except links.LinkError as exc:
        raise Closed(exc.problem) from None
    found = service.invitation(conn, invitation_id)
    if found is None:
        raise Closed("forged")
    if found["answered_at"] is not None:
        raise Closed("used")
    if as_utc(found["expires_at"]) <= now:
        raise Closed("expired")
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
    return public_page(
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
    return public_page(
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
) -> str | int:
    """Record the invitation's answer, once: the customer's id when stored, else why not."""
    found = service.invitation(conn, invitation_id)  # read again inside the write transaction
    if found is None:
        return "forged"
    if found["answered_at"] is not None:
        return "used"
    customer_id = customer_queries.live_id(conn, found["customer_id"])
    identities = service.customer_identities(conn, customer_id) if customer_id else []
    if not identities or customer_id is None:  # the customer was erased since the invitation
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
    return customer_id if stored.stored else "used"  # its message id was taken: a double submit


@router.get("/s/{token}")
def survey_page(request: Request, token: str, conn: ConnDep, engine: EngineDep) -> Response:
    now = datetime.now(UTC)
    try:
        found, survey = _open(request, conn, token, now)
    except Closed as closed:
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
    except Closed as closed:
        return _closed(request, closed.problem)
    score = _score(survey, text(form, "score"))
    if score is None:
        spec = kinds.spec(survey["kind"])
        return _ask(request, token, survey, f"Please pick a score from {spec.low} to {spec.high}.")
    step, why = text(form, "step"), text(form, "why")
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
    outcome = run_write(
        engine, lambda write: _record(write, settings, found["id"], score, kept, now)
    )
    if isinstance(outcome, str):
        return _closed(request, outcome)
    link = None
    if survey["kind"] == "nps" and score >= PROMOTER:  # a promoter: ask for a referral
        link = run_write(engine, lambda write: advocacy.link_of(write, settings, outcome, now))
    return public_page(request, "survey_thanks.html", survey=survey, referral_link=link)
