"""HTML for the journey: the Journey page (the funnel: entered, went on, conversion, days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hxpulse.deps import ConnDep, ReportsRead, SettingsDep
from hxpulse.errors import Invalid
from hxpulse.events.models import CHANNELS
from hxpulse.journey import funnel
from hxpulse.web.render import page

router = APIRouter()


@router.get("/journey")
def journey_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: ReportsRead,
    start: str | None = Query(None, max_length=40),
    end: str | None = Query(None, max_length=40),
    channel: str | None = Query(None, max_length=20),
    department: str | None = Query(None, max_length=100),
) -> Response:
    form = {"start": start or "", "end": end or "", "channel": channel or "",
            "department": department or ""}  # fmt: skip
    context: dict[str, Any] = {"form": form, "channels": CHANNELS,
                               "funnel": None, "errors": []}  # fmt: skip
    try:
        query = funnel.funnel_query(start, end, channel, department)
    except Invalid as exc:
        context["errors"] = exc.errors
        return page(request, "journey.html", status_code=400, **context)
    now = datetime.now(UTC)
    result = funnel.funnel(conn, settings.live, start=query.start, end=query.end,
                            channel=query.channel, department=query.department,
                            now=now)  # fmt: skip
    context["funnel"] = result
    context["range"] = _describe(query.start, query.end)
    context["lapsed_days"] = f"{settings.pulse.bands.lapsed * settings.pulse.half_life_days:g}"
    context["chart"] = {
        "labels": [s["label"] for s in result["stages"]],
        "entered": [s["entered"] for s in result["stages"]],
        "went_on": [s["went_on"] for s in result["stages"]],
    }
    return page(request, "journey.html", **context)


def _describe(start: datetime | None, end: datetime | None) -> str:
    def day(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d") if moment.time() == datetime.min.time() else (
            moment.strftime("%Y-%m-%d %H:%M UTC"))  # fmt: skip

    if start is None and end is None:
        return "all time"
    last = end - timedelta(days=1) if end is not None and end.time() == datetime.min.time() else end
    if start is None:
        return f"up to {day(last)}" if last is not None else "all time"
    if last is None:
        return f"since {day(start)}"
    return f"{day(start)} to {day(last)}"
