"""Sign in and sign out of the web pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse.auth import service as auth
from hxpulse.deps import EngineDep
from hxpulse.web import csrf
from hxpulse.web.render import page

router = APIRouter()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/customers"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html", next=_safe_next(next), error=None, email="")


@router.post("/login")
def login(
    request: Request,
    engine: EngineDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/customers",
) -> Response:
    csrf.check(request, csrf_token)
    with engine.begin() as conn:
        user = auth.authenticate(conn, email=email, password=password)
    if user is None:
        return page(request, "login.html", status_code=400, next=_safe_next(next),
                    error="Wrong email or password.", email=email)  # fmt: skip
    request.session.clear()
    request.session["user_id"] = user["id"]
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    csrf.check(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
