"""Dependencies for routes, each defined once as an `Annotated` alias."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy import Connection, Engine

from hxpulse.audit.service import Who
from hxpulse.auth import service as auth
from hxpulse.auth.permissions import Actor, describe
from hxpulse.config import Settings
from hxpulse.db.base import MAX_ID
from hxpulse.errors import Forbidden, HXError, Unauthorized
from hxpulse.web import csrf

KEY_CACHE_SECONDS = 10.0


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A read connection for the request (writes go through service transactions)."""
    with engine.connect() as conn:
        yield conn


DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id, 1 to 2^63 - 1.")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_conn)]


def lookup_key(request: Request, secret: str) -> auth.KeyInfo | None:
    """Check a key, remembering answers for a few seconds so hot paths skip the database."""
    cache: dict[str, tuple[float, auth.KeyInfo | None]] = request.app.state.key_cache
    hit = cache.get(secret)
    now = time.monotonic()
    if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
        return hit[1]
    with request.app.state.engine.connect() as conn:
        info = auth.check_key(conn, secret)
    if len(cache) > 10_000:
        cache.clear()
    cache[secret] = (now, info)
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


def current_user(request: Request) -> dict[str, Any] | None:
    """Return the signed-in person, if any, from the session cookie."""
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    cached = request.scope.get("hx_user")
    if cached is None:
        with request.app.state.engine.connect() as conn:
            cached = auth.get_user(conn, user_id=user_id) or {}
        request.scope["hx_user"] = cached
    return cached or None


class LoginRequired(HXError):
    status_code = 401
    code = "login_required"


def reader(request: Request) -> dict[str, Any]:
    """Allow a signed-in person or an API key with the `read` scope."""
    user = current_user(request)
    if user is not None:
        return user
    info = require_scope(request, bearer_token(request), "read")
    return {"key": info.name}


def signed_in(request: Request) -> dict[str, Any]:
    """Allow a signed-in person; pages redirect others to the login form."""
    user = current_user(request)
    if user is None:
        raise LoginRequired("sign in to see this page")
    return user


def check_writer(request: Request) -> None:
    """Allow an API key with the `write` scope, or a signed-in person whose request carries
    the page's CSRF token in `X-CSRF-Token` (a cookie alone is not enough to change data)."""
    token = bearer_token(request)
    if token is not None:
        require_scope(request, token, "write")
        return
    if current_user(request) is None:
        raise Unauthorized("sign in, or send an API key with the 'write' scope as Bearer")
    csrf.check(request, request.headers.get("x-csrf-token"))


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def actor_of(request: Request) -> Actor | None:
    """Return who is asking: the key sent as Bearer (it wins), else the signed-in person."""
    token = bearer_token(request)
    if token is not None:
        info = lookup_key(request, token)
        if info is None:
            raise Unauthorized("the key is not valid (unknown or revoked)")
        return Actor("key", info.id, info.name, scopes=info.scopes)
    user = current_user(request)
    if user is None:
        return None
    return Actor("user", int(user["id"]), str(user["email"]), role=str(user["role"]))


def allow(permission: str) -> Callable[[Request], Actor]:
    """A dependency that lets through only actors with `permission` (see auth.permissions).

    Not signed in: 401 (pages redirect to the sign-in form). Without the permission: 403 that
    names the role or key and what it may not do. A signed-in person changing data through the
    JSON API must also send the page's CSRF token in `X-CSRF-Token` (a cookie alone is not
    enough); HTML forms check their own token field.
    """
    action = describe(permission)

    def check(request: Request) -> Actor:
        actor = actor_of(request)
        if actor is None:
            raise LoginRequired("sign in, or send an API key as 'Authorization: Bearer KEY'")
        if not actor.can(permission):
            who = (
                f"your role ({actor.role})"
                if actor.kind == "user"
                else f"the key {actor.name!r} (scopes: {', '.join(actor.scopes)})"
            )
            raise Forbidden(f"{who} may not {action} ({permission})")
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


Reader = Annotated[dict[str, Any], Depends(reader)]
CurrentUser = Annotated[dict[str, Any], Depends(signed_in)]
