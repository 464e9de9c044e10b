"""Render a page template with what every page needs (user, CSRF token), or a public page for
customers (survey and preference-centre links): no session, not cached, not indexed."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from hxpulse.auth.permissions import role_can
from hxpulse.config import Settings
from hxpulse.deps import current_user
from hxpulse.web import csrf


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    user = context.setdefault("user", current_user(request))
    role = user.get("role") if user else None
    context["can"] = lambda permission: role_can(role, permission)  # the same table as routes
    context["csrf_token"] = csrf.token(request)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


PUBLIC_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer",
                  "x-robots-tag": "noindex"}  # fmt: skip


class Closed(Exception):
    """A public link that cannot open its page, with the reason (`forged`, `expired`, …)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def public_page(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    headers: dict[str, str] = PUBLIC_HEADERS,
    **context: Any,
) -> Response:
    """Render a page for customers: no session, no sign-in, not cached, not indexed."""
    settings: Settings = request.app.state.settings
    templates: Jinja2Templates = request.app.state.templates
    context.setdefault("brand", settings.surveys.brand)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(headers)
    return response
