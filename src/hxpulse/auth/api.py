"""JSON routes for people (`/api/users`), keys (`/api/keys`) and your own account
(`/api/account`): the twins of the admin and account pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hxpulse import deps
from hxpulse.auth import pages, users
from hxpulse.auth import service as auth
from hxpulse.auth.schemas import (
    AccountRead,
    KeyCreate,
    KeyCreated,
    KeyList,
    PasswordReset,
    PasswordResetRead,
    SignedOutEverywhere,
    UserCreate,
    UserCreated,
    UserList,
    UserRead,
    UserSignedOut,
    UserUpdate,
)
from hxpulse.db.engine import run_write
from hxpulse.deps import AccountManage, DbId, EngineDep, KeysManage, SettingsDep, UsersManage
from hxpulse.errors import NotFound

router = APIRouter(prefix="/api", tags=["people and keys"])


@router.get("/users", response_model=UserList)
def list_users(request: Request, engine: EngineDep, _actor: UsersManage) -> dict[str, Any]:
    """Every person: email, name, role, whether active, last sign-in, sessions open now."""
    with engine.connect() as conn:
        return {"items": users.list_users(conn, now=deps.now(request))}


@router.post("/users", status_code=201, response_model=UserCreated)
def create_user(
    body: UserCreate, request: Request, engine: EngineDep, actor: UsersManage
) -> dict[str, Any]:
    """Add a person who signs in; a generated password is returned this once."""
    who, password = deps.who(request, actor), body.password or users.new_password()

    def work(conn: Any) -> dict[str, Any]:
        user_id = auth.create_user(conn, email=body.email, password=password, role=body.role,
                                   name=body.name, who=who)  # fmt: skip
        return users.get(conn, user_id)

    made = run_write(engine, work)
    return {"user": made, "password": password if body.password is None else None}


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: DbId, body: UserUpdate, request: Request, engine: EngineDep, actor: UsersManage
) -> dict[str, Any]:
    """Change a person's role and/or disable or enable them (disabling ends their sessions).
    The last active admin can be neither demoted nor disabled (409)."""
    who, moment = deps.who(request, actor), deps.now(request)

    def work(conn: Any) -> dict[str, Any]:
        if body.role is not None:
            users.set_role(conn, user_id=user_id, role=body.role, who=who, now=moment)
        if body.active is not None:
            users.set_active(conn, user_id=user_id, active=body.active, who=who, now=moment)
        return users.get(conn, user_id)

    return run_write(engine, work)


@router.post("/users/{user_id}/password", response_model=PasswordResetRead)
def reset_password(
    user_id: DbId, body: PasswordReset, request: Request, engine: EngineDep, actor: UsersManage
) -> dict[str, Any]:
    """Set a person's password (generated when not given, and returned this once); their
    sessions end."""
    who, moment = deps.who(request, actor), deps.now(request)
    chosen = run_write(engine, lambda conn: users.reset_password(
        conn, user_id=user_id, password=body.password, who=who, now=moment))  # fmt: skip
    return {"user_id": user_id, "password": chosen if body.password is None else None}


@router.post("/users/{user_id}/sign-out", response_model=UserSignedOut)
def sign_out_user(
    user_id: DbId, request: Request, engine: EngineDep, actor: UsersManage
) -> dict[str, Any]:
    """End every session of a person."""
    who, moment = deps.who(request, actor), deps.now(request)
    ended = run_write(engine, lambda conn: users.sign_out_everywhere(
        conn, user_id=user_id, who=who, now=moment))  # fmt: skip
    return {"user_id": user_id, "sessions_ended": ended}


@router.get("/keys", response_model=KeyList)
def list_keys(engine: EngineDep, _actor: KeysManage) -> dict[str, Any]:
    """Every key (never its secret): name, prefix, scopes, created, last used, revoked."""
    with engine.connect() as conn:
        return {"items": auth.list_keys(conn)}


@router.post("/keys", status_code=201, response_model=KeyCreated)
def create_key(
    body: KeyCreate, request: Request, engine: EngineDep, actor: KeysManage
) -> dict[str, Any]:
    """Create a key; `secret` is returned this once and never stored."""
    who = deps.who(request, actor)
    info, secret = run_write(engine, lambda conn: auth.create_key(
        conn, name=body.name, scopes=list(body.scopes), who=who))  # fmt: skip
    return {"id": info.id, "name": info.name, "scopes": list(info.scopes), "secret": secret}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: DbId, request: Request, engine: EngineDep, actor: KeysManage) -> Response:
    """Revoke a key: refused from now on (in this process at once, elsewhere within a second)."""
    who = deps.who(request, actor)
    if not run_write(engine, lambda conn: auth.revoke_key(conn, key_id=key_id, who=who)):
        raise NotFound(f"there is no active key {key_id}")
    request.app.state.key_cache.forget(key_id)
    return Response(status_code=204)


@router.get("/account", response_model=AccountRead)
def account(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: AccountManage
) -> dict[str, Any]:
    """You (the signed-in person) and your open sessions."""
    return pages.account_view(request, engine, settings)


@router.post("/account/sign-out-everywhere", response_model=SignedOutEverywhere)
def sign_out_everywhere(
    request: Request, engine: EngineDep, actor: AccountManage
) -> dict[str, Any]:
    """End every session of yours, this one included."""
    who, moment = deps.who(request, actor), deps.now(request)
    ended = run_write(engine, lambda conn: users.sign_out_everywhere(
        conn, user_id=actor.id, who=who, now=moment))  # fmt: skip
    request.session.clear()
    return {"sessions_ended": ended}
