"""Dependencies for routes, each defined once as an `Annotated` alias."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy import Connection, Engine

from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth import sessions
from hxpulse.auth.keycache import KeyCache
from hxpulse.auth.permissions import Actor, describe
from hxpulse.config import Settings
from hxpulse.db.base import MAX_ID
from hxpulse.db.engine import run_write
from hxpulse.errors import Forbidden, HXError, Unauthorized
from hxpulse.web import csrf
from hxpulse.web.openapi import BEARER_KEY, SESSION


def now(request: Request) -> datetime:
    """The moment, from the application's clock (tests freeze it: `app.state.clock`)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


# dependencies that only read the app's state are `async def`: FastAPI runs a plain `def`
# dependency in the thread pool, a hop that cost a tracking request 1.5 ms of its 8
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A read connection for the request (writes go through service transactions)."""
    with engine.connect() as conn:
        yield conn


DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id, 1 to 2^63 - 1.")]
CustomerRef = Annotated[
    str,
    Path(
        max_length=400,
        description="A customer: one of their identities (user id, email, phone, anonymous id)"
        " or `id:N` for the internal id; a bare number is a user id first.",
        examples=["42", "ada@example.com", "id:1"],
    ),
]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_conn)]


def lookup_key(request: Request, secret: str) -> auth.KeyInfo | None:
    """Check a key, remembering the answer for a second so hot paths skip the database; write
    the key's `last_used_at` at most once a minute."""
    cache: KeyCache[auth.KeyInfo] = request.app.state.key_cache
    found, info = cache.get(secret)
    if found:
        return info
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        info = auth.check_key(conn, secret)
    cache.put(secret, info, info.id if info else None)
    moment = now(request)
    if info is not None and info.needs_touch(moment):
        run_write(engine, lambda conn: auth.touch_key(conn, key_id=info.id, now=moment))
    return info


def basic_user(request: Request) -> str | None:
    """Return the user part of HTTP Basic credentials (Segment's write key), if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Authorization header is not valid HTTP Basic credentials") from None
    return decoded.partition(":")[0] or None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def require_scope(request: Request, secret: str | None, scope: str) -> auth.KeyInfo:
    """Return the key for `secret` if it may use `scope`, else raise 401/403 with a reason."""
    if not secret:
        raise Unauthorized(
            "missing key: send the write key as the HTTP Basic user (Segment) or an API key"
            " as 'Authorization: Bearer KEY'"
        )
    info = lookup_key(request, secret)
    if info is None:
        raise Unauthorized("the key is not valid (unknown or revoked)")
    if scope not in info.scopes and "admin" not in info.scopes:
        raise Forbidden(f"the key {info.name!r} lacks the {scope!r} scope")
    return info


def lifetimes(settings: Settings) -> sessions.Lifetimes:
    """The session lifetimes the settings give."""
    return sessions.Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_days),
    )


def current_session(request: Request) -> sessions.Found | None:
    """The live session the cookie names, if any: one primary-key read per request (cached on
    the request); a cookie naming an ended session is dropped."""
    if "hx_session" in request.scope:
        cached: sessions.Found | None = request.scope["hx_session"]
        return cached
    token = request.session.get("sid")
    found = None
    if isinstance(token, str):
        settings: Settings = request.app.state.settings
        engine: Engine = request.app.state.engine
        moment = now(request)
        with engine.connect() as conn:
            found = sessions.lookup(conn, token, now=moment, idle=lifetimes(settings).idle)
        if found is None:
            request.session.pop("sid", None)
        elif found.needs_touch(moment):
            session_id = found.session_id
            run_write(engine, lambda conn: sessions.touch(conn, session_id, now=moment))
    request.scope["hx_session"] = found
    return found


def current_user(request: Request) -> dict[str, Any] | None:
    """Return the signed-in person, if any, from the session cookie."""
    found = current_session(request)
    return found.user if found is not None else None


class LoginRequired(HXError):
    status_code = 401
    code = "login_required"


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def actor_of(request: Request) -> Actor | None:
    """Return who is asking: on the JSON API the key sent as Bearer (it wins), else the
    signed-in person. Pages are for people: they ignore keys."""
    token = bearer_token(request) if request.url.path.startswith("/api/") else None
    if token is not None:
        info = lookup_key(request, token)
        if info is None:
            raise Unauthorized("the key is not valid (unknown or revoked)")
        return Actor("key", info.id, info.name, scopes=info.scopes)
    user = current_user(request)
    if user is None:
        return None
    return Actor("user", int(user["id"]), str(user["email"]), role=str(user["role"]))


def allow(permission: str) -> Callable[..., Actor]:
    """A dependency that lets through only actors with `permission` (see auth.permissions).

    Not signed in: 401 (pages redirect to the sign-in form). Without the permission: 403 that
    names the role or key and what it may not do. A signed-in person changing data through the
    JSON API must also send the page's CSRF token in `X-CSRF-Token` (a cookie alone is not
    enough); HTML forms check their own token field.
    """
    action = describe(permission)

    def check(
        request: Request,
        _key: Annotated[None, Depends(BEARER_KEY)],  # declared for the API description;
        _session: Annotated[None, Depends(SESSION)],  # actor_of reads both
    ) -> Actor:
        actor = actor_of(request)
        if actor is None:
            raise LoginRequired("sign in, or send an API key as 'Authorization: Bearer KEY'")
        if not actor.can(permission):
            who = (
                f"Your role ({actor.role})"
                if actor.kind == "user"
                else f"The key {actor.name!r} (scopes: {', '.join(actor.scopes)})"
            )
            raise Forbidden(f"{who} may not {action} ({permission}).")
        if (
            actor.kind == "user"
            and request.method not in SAFE_METHODS
            and request.url.path.startswith("/api/")
        ):
            csrf.check(request, request.headers.get("x-csrf-token"))
        return actor

    check.__name__ = f"allow_{permission.replace(':', '_')}"
    return check


def who(request: Request, actor: Actor) -> Who:
    """The audit log's name for `actor`, with the client's address."""
    address = request.client.host if request.client else None
    return Who(actor.kind, actor.id, actor.label, address)


# One alias per permission, declared on the routes: `_actor: SegmentsWrite`.
CustomersRead = Annotated[Actor, Depends(allow("customers:read"))]
CustomersExport = Annotated[Actor, Depends(allow("customers:export"))]
CustomersErase = Annotated[Actor, Depends(allow("customers:erase"))]
ConsentWrite = Annotated[Actor, Depends(allow("consent:write"))]
PulseRead = Annotated[Actor, Depends(allow("pulse:read"))]
ReportsRead = Annotated[Actor, Depends(allow("reports:read"))]
DashboardRead = Annotated[Actor, Depends(allow("dashboard:read"))]
SegmentsRead = Annotated[Actor, Depends(allow("segments:read"))]
SegmentsWrite = Annotated[Actor, Depends(allow("segments:write"))]
SegmentsExport = Annotated[Actor, Depends(allow("segments:export"))]
SurveysRead = Annotated[Actor, Depends(allow("surveys:read"))]
SurveysWrite = Annotated[Actor, Depends(allow("surveys:write"))]
SurveysInvite = Annotated[Actor, Depends(allow("surveys:invite"))]
ResponsesWrite = Annotated[Actor, Depends(allow("responses:write"))]
EventsWrite = Annotated[Actor, Depends(allow("events:write"))]
CasesRead = Annotated[Actor, Depends(allow("cases:read"))]
CasesWork = Annotated[Actor, Depends(allow("cases:work"))]
TeamsManage = Annotated[Actor, Depends(allow("teams:manage"))]
RulesRead = Annotated[Actor, Depends(allow("rules:read"))]
RulesWrite = Annotated[Actor, Depends(allow("rules:write"))]
WebhooksManage = Annotated[Actor, Depends(allow("webhooks:manage"))]
DeliveriesRead = Annotated[Actor, Depends(allow("deliveries:read"))]
DeliveriesReplay = Annotated[Actor, Depends(allow("deliveries:replay"))]
FeedRead = Annotated[Actor, Depends(allow("feed:read"))]
FeedToken = Annotated[Actor, Depends(allow("feed:token"))]
AdvocacyRead = Annotated[Actor, Depends(allow("advocacy:read"))]
ValueRead = Annotated[Actor, Depends(allow("value:read"))]
AdvocacyAsk = Annotated[Actor, Depends(allow("advocacy:ask"))]
OffersRead = Annotated[Actor, Depends(allow("offers:read"))]
OffersWrite = Annotated[Actor, Depends(allow("offers:write"))]
OffersServe = Annotated[Actor, Depends(allow("offers:serve"))]
AuditRead = Annotated[Actor, Depends(allow("audit:read"))]
UsersManage = Annotated[Actor, Depends(allow("users:manage"))]
KeysManage = Annotated[Actor, Depends(allow("keys:manage"))]
AccountManage = Annotated[Actor, Depends(allow("account:manage"))]
