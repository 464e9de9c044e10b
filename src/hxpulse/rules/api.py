"""JSON routes for rules: the configured rules with their firings, one rule, the dry run, and
one customer's firings. Reading needs `rules:read`; the dry run writes nothing, so it needs
`rules:read` too (changing rules is editing hxpulse.toml)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, EngineDep, RulesRead, SettingsDep
from hxpulse.rules import service
from hxpulse.rules.schemas import FiringList, RuleDetail, RuleList, RuleTestIn, RuleTestOut
from hxpulse.rules.schemas import parse_test as parse
from hxpulse.web.body import read_object
from hxpulse.web.openapi import body as described

router = APIRouter(prefix="/api", tags=["rules"])
RuleName = Path(max_length=60, description="The rule's name in hxpulse.toml.")
MAX_BODY = 64 * 1024


@router.get("/rules", response_model=RuleList)
def list_rules(conn: ConnDep, settings: SettingsDep, _actor: RulesRead) -> dict[str, Any]:
    """Every configured rule: trigger, conditions, actions, cap, and how often it fired."""
    return {"items": service.list_rules(conn, settings.live)}


@router.get("/rules/{name}", response_model=RuleDetail)
def get_rule(
    conn: ConnDep, settings: SettingsDep, _actor: RulesRead, name: str = RuleName
) -> dict[str, Any]:
    """One rule, with its latest firings."""
    live = settings.live
    service.rule_of(live, name)
    found = next(r for r in service.list_rules(conn, live) if r["name"] == name)
    return found | {"recent": service.firings(conn, rule=name, limit=50)}


@router.post("/rules/{name}/test", response_model=RuleTestOut, openapi_extra=described(RuleTestIn))
async def test_rule(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: RulesRead,
    name: str = RuleName,
) -> dict[str, Any]:
    """What the rule would do for an event (`{"event": {"type", …}, "customer"?}`) and why;
    nothing is written."""
    service.rule_of(settings.live, name)
    data = parse(await read_object(request, MAX_BODY))

    def work() -> dict[str, Any]:
        with engine.connect() as conn:
            cid = None if data.customer is None else queries.find(conn, data.customer)
            return service.trial(conn, settings.live, name, data.event.model_dump(),
                                 customer_id=cid, now=datetime.now(UTC))  # fmt: skip

    return await run_in_threadpool(work)


@router.get("/customers/{ref}/firings", response_model=FiringList)
def customer_firings(
    ref: CustomerRef,
    conn: ConnDep,
    _actor: CustomersRead,
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """The rules that fired for the customer, newest first, each with its cause and actions
    (or capped); `ref` is any identity or `id:N`."""
    customer_id = queries.find(conn, ref)
    return {"items": service.firings(conn, customer_id=customer_id, limit=limit)}
