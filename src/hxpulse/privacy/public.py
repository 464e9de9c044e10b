"""The preference centre `/p/{token}`: a customer sees what the business holds about them,
chooses per purpose what it may do, downloads their data and asks to be erased.

No session and no JavaScript: the signed, expiring token in the URL is the capability (see
`privacy.links`). Forms carry a value derived from the token (so a form cannot be posted
without loading its page) and posts from another site are refused (`Sec-Fetch-Site`,
`Origin`); the one exception is RFC 8058's one-click unsubscribe, which mail providers post
from their servers and which can only say no. Every change is audited as the customer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse.audit.service import Who
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, EngineDep
from hxpulse.errors import HXError, NotFound
from hxpulse.privacy import links, service
from hxpulse.privacy.api import json_download
from hxpulse.privacy.consent import PURPOSES
from hxpulse.privacy.schemas import PreferencesAnswer
from hxpulse.web.body import read_limited
from hxpulse.web.render import PUBLIC_HEADERS, Closed, public_page

router = APIRouter()
api = APIRouter(prefix="/api", tags=["privacy"])
MAX_FORM = 4 * 1024
URLENCODED = "application/x-www-form-urlencoded"
ONE_CLICK = ("List-Unsubscribe", "One-Click")
HEADERS = {**PUBLIC_HEADERS, "x-frame-options": "DENY"}
MESSAGES: dict[str, tuple[int, str, str]] = {
    "forged": (404, "This link is not valid",
               "Please open the link exactly as it came in one of our emails."),
    "expired": (410, "This link has expired",
                "For your safety these links work for a limited time. The link in our most"
                " recent email will work."),
    "erased": (200, "We no longer hold your personal data",
               "Your personal data was erased as you asked. Nothing is kept that names you."),
    "cross-site": (403, "This form was not sent from this page",
                   "Please open your preference page and use its buttons."),
    "saved": (200, "Your choices are saved", "Thank you. You can change them at any time."),
    "unsubscribed": (200, "You are unsubscribed",
                     "We will not send you these emails any more."),
    "requested": (200, "We have your request",
                  "We will erase your personal data and confirm it to you. Until then we send"
                  " you nothing."),
}  # fmt: skip


class LinkExpired(HXError):
    status_code = 410
    code = "expired"


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return public_page(request, template, status_code, headers=HEADERS, **context)


def _message(request: Request, problem: str, token: str | None = None) -> Response:
    status, title, text = MESSAGES[problem]
    return _render(request, "preferences_message.html", status, problem=problem, title=title,
                   text=text, token=token)  # fmt: skip


def _customer(request: Request, conn: Connection, token: str) -> int:
    """The live customer `token` opens; raises Closed (forged, expired, erased)."""
    settings: Settings = request.app.state.settings
    try:
        customer_id = links.read(request.app.state.secret, token,
                                 max_age_seconds=settings.privacy.link_days * 86400)  # fmt: skip
    except links.LinkError as exc:
        raise Closed(exc.problem) from None
    live = queries.live_id(conn, customer_id)
    if live is None:
        raise Closed("forged")
    if service.is_erased(conn, live):
        raise Closed("erased")
    return live


def _as_customer(request: Request, customer_id: int) -> Who:
    address = request.client.host if request.client else None
    return Who("customer", customer_id, f"customer {customer_id}", address)


def _same_site(request: Request) -> bool:
    """False for a post another site made the browser send: browsers say so in
    `Sec-Fetch-Site`; older ones only in `Origin` (which is "null" from our own pages, since
    they send no referrer, so only a real other origin counts against it)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    settings: Settings = request.app.state.settings
    public = urlsplit(settings.public_url)
    own = {f"{request.url.scheme}://{request.url.netloc}", f"{public.scheme}://{public.netloc}"}
    return origin in own


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form within a small limit; anything else reads as empty."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != URLENCODED:
        return {}
    body = await read_limited(request, MAX_FORM)
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def _checked_form(request: Request, token: str) -> dict[str, str] | None:
    """The form, or None when it was not posted from its own page."""
    fields = await _form(request)
    if not _same_site(request):
        return None
    if not links.check_form(request.app.state.secret, token, fields.get("form_token", "")):
        return None
    return fields


def _held(conn: Connection, customer_id: int, settings: Settings) -> dict[str, Any]:
    """What the page shows: profile, identities, activity, consent; no staff names."""
    profile = queries.profile(conn, customer_id=customer_id, limit=1)
    panel = service.panel(conn, customer_id, due_days=settings.privacy.erasure_days)
    return {
        "customer_id": customer_id,
        "name": profile["name"],
        "identities": [{"kind": i["kind"], "value": i["value"]} for i in profile["identities"]],
        "traits": profile["traits"],
        "preferences": profile["preferences"],
        "activity": {
            "touchpoints": profile["event_count"],
            "first_seen_at": profile["first_seen_at"],
            "last_seen_at": profile["last_seen_at"],
        },  # fmt: skip
        "consent": panel["consent"]["purposes"],
        "erasure": panel["erasure"],
    }


@router.get("/p/{token}")
def preferences(request: Request, token: str, conn: ConnDep) -> Response:
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    held = _held(conn, customer_id, request.app.state.settings)
    form_token = links.form_token(request.app.state.secret, token)
    return _render(request, "preferences.html", token=token, form_token=form_token, held=held,
                   saved=request.query_params.get("saved") == "1")  # fmt: skip


@api.get("/preferences/{token}", response_model=PreferencesAnswer)
def preferences_json(request: Request, token: str, conn: ConnDep) -> dict[str, Any]:
    """The preference centre's JSON twin: what the business holds about the link's customer."""
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        status, title, _text = MESSAGES[closed.problem]
        if status == 410:
            raise LinkExpired(title) from None
        if status >= 400:
            raise NotFound(title) from None
        return {"erased": True}
    return _held(conn, customer_id, request.app.state.settings)


@router.post("/p/{token}/consent")
async def save_consent(request: Request, token: str, conn: ConnDep, engine: EngineDep) -> Response:
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    fields = await _checked_form(request, token)
    if fields is None:
        return _message(request, "cross-site", token)
    changes = {p: fields[p] for p in PURPOSES if fields.get(p) in ("granted", "denied")}
    if changes:
        who, now = _as_customer(request, customer_id), datetime.now(UTC)
        run_write(engine, lambda write: service.set_consent(write, customer_id, changes,
                                                            who=who, now=now))  # fmt: skip
    return RedirectResponse(f"/p/{token}?saved=1", status_code=303)


@router.post("/p/{token}/export")
async def download(request: Request, token: str, conn: ConnDep, engine: EngineDep) -> Response:
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    if await _checked_form(request, token) is None:
        return _message(request, "cross-site", token)
    doc = service.export(engine, customer_id, who=_as_customer(request, customer_id),
                         now=datetime.now(UTC), via="preference_centre",
                         audience="customer")  # fmt: skip
    return json_download(doc, "my-data.json")


@router.get("/p/{token}/erase")
def erase_page(request: Request, token: str, conn: ConnDep) -> Response:
    try:
        _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    return _erase_form(request, token)


def _erase_form(request: Request, token: str, error: str | None = None) -> Response:
    settings: Settings = request.app.state.settings
    return _render(request, "preferences_erase.html", 400 if error else 200, token=token,
                   form_token=links.form_token(request.app.state.secret, token), error=error,
                   due_days=settings.privacy.erasure_days)  # fmt: skip


@router.post("/p/{token}/erase")
async def ask_erasure(request: Request, token: str, conn: ConnDep, engine: EngineDep) -> Response:
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    fields = await _checked_form(request, token)
    if fields is None:
        return _message(request, "cross-site", token)
    if fields.get("confirm") != "yes":
        return _erase_form(request, token, "Please tick the box to confirm.")
    settings: Settings = request.app.state.settings
    who, now = _as_customer(request, customer_id), datetime.now(UTC)
    run_write(engine, lambda write: service.request_erasure(
        write, customer_id, who=who, now=now, due_days=settings.privacy.erasure_days))  # fmt: skip
    return _message(request, "requested", token)


@router.get("/p/{token}/unsubscribe/{purpose}")
def unsubscribe_page(request: Request, token: str, purpose: str, conn: ConnDep) -> Response:
    try:
        _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    if purpose not in PURPOSES:
        return _message(request, "forged")
    form_token = links.form_token(request.app.state.secret, token)
    return _render(request, "preferences_unsubscribe.html", token=token, form_token=form_token,
                   purpose=PURPOSES[purpose])  # fmt: skip


@router.post("/p/{token}/unsubscribe/{purpose}")
async def unsubscribe(
    request: Request, token: str, purpose: str, conn: ConnDep, engine: EngineDep
) -> Response:
    try:
        customer_id = _customer(request, conn, token)
    except Closed as closed:
        return _message(request, closed.problem)
    if purpose not in PURPOSES:
        return _message(request, "forged")
    fields = await _form(request)
    one_click = fields.get(ONE_CLICK[0]) == ONE_CLICK[1]  # RFC 8058, from a mail provider
    own_page = _same_site(request) and links.check_form(
        request.app.state.secret, token, fields.get("form_token", "")
    )
    if not (one_click or own_page):
        return _message(request, "cross-site", token)
    who, now = _as_customer(request, customer_id), datetime.now(UTC)
    run_write(engine, lambda write: service.set_consent(write, customer_id, {purpose: "denied"},
                                                        who=who, now=now))  # fmt: skip
    return _message(request, "unsubscribed", token)
