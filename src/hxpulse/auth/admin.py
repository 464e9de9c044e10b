"""The admin pages: people (`/admin/users`) and keys (`/admin/keys`). Each action is a plain
form (CSRF token checked) that calls the same services as the JSON API and the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine
from starlette.responses import Response

from hxpulse import deps
from hxpulse.auth import service as auth
from hxpulse.auth import users
from hxpulse.db.engine import run_write
from hxpulse.deps import DbId, EngineDep, KeysManage, UsersManage
from hxpulse.errors import HXError, NotFound
from hxpulse.web import csrf
from hxpulse.web.render import page

router = APIRouter()
Token = Annotated[str, Form()]


def _users(request: Request, engine: Engine, status_code: int = 200, **context: Any) -> Response:
    with engine.connect() as conn:
        items = users.list_users(conn, now=deps.now(request))
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("password", None)
    context.setdefault("form", {"email": "", "name": "", "role": "agent"})
    return page(request, "admin_users.html", status_code=status_code, items=items,
                roles=auth.ROLES, **context)  # fmt: skip


def _change(request: Request, engine: Engine, work: Any) -> Response:
    """Run one change; back to the list, or the list with the error (409 for the last admin)."""
    try:
        run_write(engine, work)
    except HXError as exc:
        return _users(request, engine, exc.status_code, error=exc.message)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users")
def users_page(request: Request, engine: EngineDep, _actor: UsersManage) -> Response:
    return _users(request, engine)


@router.post("/admin/users")
def create_user(
    request: Request,
    engine: EngineDep,
    actor: UsersManage,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "agent",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Token = "",
) -> Response:
    """Add a person; without a password, one is generated and shown this once."""
    csrf.check(request, csrf_token)
    who, chosen = deps.who(request, actor), password or None
    given = chosen or users.new_password()
    try:
        run_write(engine, lambda conn: auth.create_user(conn, email=email, password=given,
                                                        role=role, name=name.strip() or None,
                                                        who=who))  # fmt: skip
    except HXError as exc:
        form = {"email": email, "name": name, "role": role}
        return _users(request, engine, exc.status_code, error=exc.message, form=form)
    notice = f"Added {email.strip().lower()} ({role})."
    if chosen is None:
        notice += " Their password, shown this once:"
    return _users(request, engine, 201, notice=notice, password=None if chosen else given)


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: DbId,
    engine: EngineDep,
    actor: UsersManage,
    role: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Token = "",
) -> Response:
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    return _change(request, engine, lambda conn: users.set_role(
        conn, user_id=user_id, role=role, who=who, now=moment))  # fmt: skip


@router.post("/admin/users/{user_id}/disable")
def disable_user(
    request: Request, user_id: DbId, engine: EngineDep, actor: UsersManage, csrf_token: Token = ""
) -> Response:
    """Disable a person: their sessions end at once and they cannot sign in."""
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    return _change(request, engine, lambda conn: users.set_active(
        conn, user_id=user_id, active=False, who=who, now=moment))  # fmt: skip


@router.post("/admin/users/{user_id}/enable")
def enable_user(
    request: Request, user_id: DbId, engine: EngineDep, actor: UsersManage, csrf_token: Token = ""
) -> Response:
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    return _change(request, engine, lambda conn: users.set_active(
        conn, user_id=user_id, active=True, who=who, now=moment))  # fmt: skip


@router.post("/admin/users/{user_id}/password")
def reset_password(
    request: Request, user_id: DbId, engine: EngineDep, actor: UsersManage, csrf_token: Token = ""
) -> Response:
    """Give a person a new generated password (shown this once); their sessions end."""
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    try:
        chosen = run_write(engine, lambda conn: users.reset_password(
            conn, user_id=user_id, password=None, who=who, now=moment))  # fmt: skip
        with engine.connect() as conn:
            email = users.get(conn, user_id)["email"]
    except NotFound as exc:
        return _users(request, engine, 404, error=exc.message)
    notice = f"New password for {email}, shown this once:"
    return _users(request, engine, notice=notice, password=chosen)


@router.post("/admin/users/{user_id}/sign-out")
def sign_out_user(
    request: Request, user_id: DbId, engine: EngineDep, actor: UsersManage, csrf_token: Token = ""
) -> Response:
    """End every session of a person."""
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    return _change(request, engine, lambda conn: users.sign_out_everywhere(
        conn, user_id=user_id, who=who, now=moment))  # fmt: skip


def _keys(request: Request, engine: Engine, status_code: int = 200, **context: Any) -> Response:
    with engine.connect() as conn:
        items = auth.list_keys(conn)
    context.setdefault("error", None)
    context.setdefault("secret", None)
    return page(request, "admin_keys.html", status_code=status_code, items=items,
                scopes=auth.SCOPES, **context)  # fmt: skip


@router.get("/admin/keys")
def keys_page(request: Request, engine: EngineDep, _actor: KeysManage) -> Response:
    return _keys(request, engine)


@router.post("/admin/keys")
def create_key(
    request: Request,
    engine: EngineDep,
    actor: KeysManage,
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[list[str] | None, Form()] = None,
    csrf_token: Token = "",
) -> Response:
    """Create a key; its secret is shown this once."""
    csrf.check(request, csrf_token)
    scopes, who = scope or [], deps.who(request, actor)
    try:
        info, secret = run_write(engine, lambda conn: auth.create_key(
            conn, name=name, scopes=scopes, who=who))  # fmt: skip
    except HXError as exc:
        return _keys(request, engine, exc.status_code, error=exc.message)
    return _keys(request, engine, 201, secret=secret, made=info)


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key(
    request: Request, key_id: DbId, engine: EngineDep, actor: KeysManage, csrf_token: Token = ""
) -> Response:
    """Revoke a key: refused from now on (in this process at once, elsewhere within a second)."""
    csrf.check(request, csrf_token)
    who = deps.who(request, actor)
    if not run_write(engine, lambda conn: auth.revoke_key(conn, key_id=key_id, who=who)):
        return _keys(request, engine, 404, error=f"there is no active key {key_id}")
    request.app.state.key_cache.forget(key_id)
    return RedirectResponse("/admin/keys", status_code=303)
