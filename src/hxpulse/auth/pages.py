"""Sign in and sign out of the web pages, and the account page (your sessions, sign out
everywhere, change your password)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse import deps
from hxpulse.audit.service import Who
from hxpulse.auth import sessions, signin, throttle, users
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.deps import AccountManage, EngineDep, SettingsDep
from hxpulse.errors import Invalid, TooManyRequests
from hxpulse.web import csrf
from hxpulse.web.render import page

router = APIRouter()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"  # home: the dashboard (people without it are sent on to the customers)


def policy(settings: Settings) -> throttle.Policy:
    """The sign-in throttle the settings give."""
    return throttle.Policy(
        per_account=settings.signin_account_failures,
        per_address=settings.signin_address_failures,
        window=timedelta(minutes=settings.signin_window_minutes),
    )


def client_address(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def _start(request: Request, token: str) -> None:
    """Make `token` this browser's session (a new cookie: never the one from before sign-in)."""
    request.session.clear()
    request.session["sid"] = token
    request.scope.pop("hx_session", None)


def _login_page(request: Request, engine: Any, status_code: int = 200, **context: Any) -> Response:
    """The sign-in form; while there are no users at all, with how to create the first admin."""
    with engine.connect() as conn:
        first_admin = users.FIRST_ADMIN if users.no_users(conn) else None
    return page(request, "login.html", status_code=status_code, first_admin=first_admin,
                **context)  # fmt: skip


@router.get("/login")
def login_form(request: Request, engine: EngineDep, next: str | None = None) -> Response:
    return _login_page(request, engine, next=_safe_next(next), error=None, email="")


@router.post("/login")
def login(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    csrf.check(request, csrf_token)
    attempt = signin.Attempt(email, password, client_address(request),
                             request.headers.get("user-agent"))  # fmt: skip
    shown = {"next": _safe_next(next), "email": email}
    try:
        result = signin.sign_in(engine, attempt, now=deps.now(request), policy=policy(settings),
                                lifetimes=deps.lifetimes(settings))  # fmt: skip
    except TooManyRequests as exc:
        refused = _login_page(request, engine, 429, error=exc.message, **shown)
        refused.headers["retry-after"] = str(exc.retry_after)
        return refused
    if result is None:
        return _login_page(request, engine, 400, error="Wrong email or password.", **shown)
    _start(request, result[1])
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request, engine: EngineDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    csrf.check(request, csrf_token)
    found = deps.current_session(request)
    if found is not None:
        who = signin.person(found.user, client_address(request))
        moment = deps.now(request)
        run_write(engine, lambda conn: signin.sign_out(conn, session_id=found.session_id,
                                                       who=who, now=moment))  # fmt: skip
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def account_view(request: Request, engine: Any, settings: Settings) -> dict[str, Any]:
    """You and your open sessions (the JSON twin returns the same)."""
    found = deps.current_session(request)
    assert found is not None  # the route's guard let only a signed-in person through
    with engine.connect() as conn:
        user = users.get(conn, int(found.user["id"]))
        open_now = sessions.open_sessions(conn, user_id=user["id"], now=deps.now(request),
                                          idle=deps.lifetimes(settings).idle)  # fmt: skip
    for item in open_now:
        item["current"] = item["id"] == found.session_id
        item.pop("id")
    return {"user": user, "sessions": open_now}


def _account(
    request: Request,
    engine: Any,
    settings: Settings,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("errors", [])
    context.setdefault("notice", None)
    return page(request, "account.html", status_code=status_code,
                **account_view(request, engine, settings), **context)  # fmt: skip


@router.get("/account")
def account_page(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: AccountManage
) -> Response:
    return _account(request, engine, settings)


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(
    request: Request,
    engine: EngineDep,
    actor: AccountManage,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """End every session of yours, this one included."""
    csrf.check(request, csrf_token)
    who, moment = deps.who(request, actor), deps.now(request)
    run_write(engine, lambda conn: users.sign_out_everywhere(conn, user_id=actor.id, who=who,
                                                             now=moment))  # fmt: skip
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/account/password")
def change_password(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: AccountManage,
    current: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Change your password: every session of yours ends, and this browser gets a new one."""
    csrf.check(request, csrf_token)
    if password != confirm:
        errors = [{"field": "confirm", "message": "the two new passwords differ"}]
        return _account(request, engine, settings, 400, errors=errors)
    who, moment, address = deps.who(request, actor), deps.now(request), client_address(request)
    rules, account = policy(settings), throttle.account_of(actor.name)
    try:
        run_write(engine, lambda conn: throttle.check(conn, account=account, address=address,
                                                      now=moment, policy=rules))  # fmt: skip
        token = run_write(engine, lambda conn: _change(conn, request, actor.id, current,
                                                       password, who, settings))  # fmt: skip
    except TooManyRequests as exc:
        refused = _account(request, engine, settings, 429, errors=[{"message": exc.message}])
        refused.headers["retry-after"] = str(exc.retry_after)
        return refused
    except Invalid as exc:
        if any(e.get("field") == "current" for e in exc.errors):
            run_write(engine, lambda conn: throttle.record_failure(
                conn, account=account, address=address, now=moment, policy=rules))  # fmt: skip
        return _account(request, engine, settings, 400, errors=[{"message": exc.message}])
    _start(request, token)
    notice = "Password changed: your other sessions ended."
    return _account(request, engine, settings, notice=notice)


def _change(
    conn: Any,
    request: Request,
    user_id: int,
    current: str,
    password: str,
    who: Who,
    settings: Settings,
) -> str:
    moment = deps.now(request)
    users.change_password(conn, user_id=user_id, current=current, new=password, who=who,
                          now=moment)  # fmt: skip
    return sessions.start(conn, user_id=user_id, now=moment, lifetimes=deps.lifetimes(settings),
                          address=client_address(request),
                          user_agent=request.headers.get("user-agent"))  # fmt: skip
