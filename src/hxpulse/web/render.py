"""Render a page template with what every page needs (user, CSRF token)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from hxpulse.auth.permissions import role_can
from hxpulse.deps import current_user
from hxpulse.web import csrf


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    user = context.setdefault("user", current_user(request))
    role = user.get("role") if user else None
    context["can"] = lambda permission: role_can(role, permission)  # the same table as routes
    context["csrf_token"] = csrf.token(request)
    return templates.TemplateResponse(request, template, context, status_code=status_code)
