"""The Rules page: every configured rule with its recent firings, and a dry-run form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.deps import ConnDep, RulesRead, SettingsDep
from hxpulse.errors import HXError, Invalid
from hxpulse.rules import service
from hxpulse.rules.schemas import parse_test
from hxpulse.web import csrf
from hxpulse.web.render import page
from hxpulse.web.text import checked_form

router = APIRouter()


def _index(
    request: Request, conn: ConnDep, settings: Settings, status_code: int = 200, **extra: Any
) -> Response:
    items = service.list_rules(conn, settings.live)
    for item in items:
        item["recent"] = service.firings(conn, rule=item["name"], limit=5)
    return page(request, "rules.html", status_code=status_code, items=items, **extra)


@router.get("/rules")
def rules_page(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: RulesRead
) -> Response:
    return _index(request, conn, settings)


@router.post("/rules/{name}/test")
async def test_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: RulesRead,
    name: str = Path(max_length=60),
) -> Response:
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    typed = {"type": str(form.get("type", "")).strip(), "name": name,
             "customer": str(form.get("customer", "")).strip(),
             "properties": str(form.get("properties", "")).strip()}  # fmt: skip
    try:
        service.rule_of(settings.live, name)
        properties = orjson.loads(typed["properties"]) if typed["properties"] else {}
        data = parse_test({"event": {"type": typed["type"], "properties": properties},
                           "customer": typed["customer"] or None})  # fmt: skip
        cid = None if data.customer is None else queries.find(conn, data.customer)
        result = service.trial(conn, settings.live, name, data.event.model_dump(),
                               customer_id=cid, now=datetime.now(UTC))  # fmt: skip
    except orjson.JSONDecodeError:
        error = Invalid('properties must be a JSON object, e.g. {"sku": "a1"}')
        return _index(request, conn, settings, 400, tried=typed, error=error.message)
    except HXError as exc:
        return _index(request, conn, settings, exc.status_code, tried=typed, error=exc.message)
    return _index(request, conn, settings, tried=typed, result=result)
