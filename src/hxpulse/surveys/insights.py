"""JSON routes for what the answers say: NPS/CSAT/CES reports, the latest (flagged) answers
and the themes. Reads need `surveys:read`; refitting, renaming and merging themes need
`surveys:write`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from hxpulse.analytics import nps as stats
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, DbId, EngineDep, SettingsDep, SurveysRead, SurveysWrite
from hxpulse.errors import Invalid
from hxpulse.events import moments
from hxpulse.segments import service as segments
from hxpulse.surveys import report, service, themes
from hxpulse.surveys.out import AnswerList, FitOut, ThemeDrivers, ThemeOut
from hxpulse.surveys.report_out import ReportOut
from hxpulse.surveys.schemas import ThemeMerge, ThemeRename
from hxpulse.web.body import read_object
from hxpulse.web.checked import validated
from hxpulse.web.openapi import body

router = APIRouter()  # included in the surveys router, which tags it
MAX_BODY = 64 * 1024


async def _object(request: Request) -> dict[str, Any]:
    return await read_object(request, MAX_BODY)


def _day(value: str | None, field: str) -> date | None:
    return moments.parse_day(value, field)


@router.get("/api/nps", response_model=ReportOut, response_model_exclude_unset=True)
def get_nps(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: SurveysRead,
    by: str | None = Query(None, description="department, channel, touchpoint, survey, segment"),
    period: str | None = Query(None, description="day, week or month"),
    kind: str = Query("nps", description="nps, csat, ces or custom (all surveys of the kind)"),
    survey: str | None = Query(None, description="One survey (id or name) instead of all."),
    since: str | None = Query(None, description="First day, YYYY-MM-DD (UTC)."),
    until: str | None = Query(None, description="Last day, YYYY-MM-DD (UTC)."),
    department: str | None = None,
    channel: str | None = None,
    touchpoint: str | None = None,
    segment: str | None = Query(None, description="Only answers of this segment's members."),
    compare: str | None = Query(
        None, description="Two groups of `by` to test against each other: `A,B`."
    ),
) -> dict[str, Any]:
    """NPS (or CSAT, CES) with its 95% margin of error, overall and per group; groups with
    fewer than 30 answers are flagged `too_small`. With `by`, each group is compared with
    the rest (`vs_rest`: difference, margin, p-value, significant)."""
    return nps_report(
        conn,
        settings,
        by=by,
        period=period,
        kind=kind,
        survey=survey,
        since=since,
        until=until,
        department=department,
        channel=channel,
        touchpoint=touchpoint,
        segment=segment,
        compare=compare,
    )


def nps_report(conn: Any, settings: Any, **q: Any) -> dict[str, Any]:
    """The report for the API's and the CLI's query parameters."""
    now = datetime.now(UTC)
    chosen = service.find(conn, q["survey"]) if q.get("survey") else None
    seg = segments.find(conn, q["segment"]) if q.get("segment") else None
    result = report.report(
        conn,
        settings.live,
        kind=q.get("kind") or "nps",
        survey=chosen,
        by=q.get("by"),
        period=q.get("period"),
        since=_day(q.get("since"), "since"),
        until=_day(q.get("until"), "until"),
        department=q.get("department"),
        channel=q.get("channel"),
        touchpoint=q.get("touchpoint"),
        segment=seg,
        now=now,
    )
    if q.get("compare"):
        result["comparison"] = _compare(result, q["compare"])
    return result


def _compare(result: dict[str, Any], pair: str) -> dict[str, Any]:
    by = result["by"]
    names = [p.strip() for p in pair.split(",")]
    if by is None or len(names) != 2 or not all(names):
        raise Invalid(
            "compare: give two groups of `by` as A,B (with by=...)",
            errors=[{"field": "compare", "message": "A,B with by"}],
        )
    totals: dict[str, list[int]] = {}
    for group in result["groups"]:
        if str(group[by]) in names:
            counts = totals.setdefault(str(group[by]), [0, 0, 0, 0])
            for i, key in enumerate(("promoters", "passives", "detractors")):
                counts[i] += int(group.get(key, 0))
    missing = [n for n in names if n not in totals]
    if missing:
        raise Invalid(
            f"compare: no answers in group(s) {', '.join(missing)}",
            errors=[{"field": "compare", "message": "unknown group"}],
        )
    a, b = (stats.nps_of(*totals[n][:3]) for n in names)
    return {
        "a": {by: names[0], **a.to_dict()},
        "b": {by: names[1], **b.to_dict()},
        **stats.compare_nps(a, b).to_dict(),
    }


@router.get("/api/responses", response_model=AnswerList)
def list_responses(
    conn: ConnDep,
    _actor: SurveysRead,
    flagged: bool | None = Query(None, description="Only answers flagged for follow-up."),
    kind: str | None = None,
    survey: str | None = Query(None, description="One survey (id or name)."),
    since: str | None = Query(None, description="First day, YYYY-MM-DD (UTC)."),
    until: str | None = Query(None, description="Last day, YYYY-MM-DD (UTC)."),
    department: str | None = None,
    channel: str | None = None,
    touchpoint: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """The newest answers with a why, newest first (flagged ones need a follow-up)."""
    chosen = service.find(conn, survey)["id"] if survey else None
    items = report.latest_answers(
        conn, limit=limit, flagged=flagged, kind=kind, survey_id=chosen,
        since=_day(since, "since"), until=_day(until, "until"), department=department,
        channel=channel, touchpoint=touchpoint,
    )  # fmt: skip
    return {"items": items}


@router.get("/api/themes", response_model=ThemeDrivers)
def list_themes(conn: ConnDep, _actor: SurveysRead) -> dict[str, Any]:
    """Themes of the NPS answers: mentions, share, NPS, and impact on the overall NPS."""
    return themes.drivers(conn)


@router.post("/api/themes/fit", response_model=FitOut)
async def fit_themes(engine: EngineDep, _actor: SurveysWrite) -> Any:
    """Discover themes from the answers again (replaces earlier themes, names and merges)."""
    return await run_in_threadpool(
        run_write, engine, lambda conn: themes.fit(conn, now=datetime.now(UTC))
    )


@router.patch("/api/themes/{theme_id}", response_model=ThemeOut, openapi_extra=body(ThemeRename))
async def rename_theme(
    theme_id: DbId, request: Request, engine: EngineDep, _actor: SurveysWrite
) -> Any:
    """Rename a theme: `{"name": "Late deliveries"}`."""
    name = validated(ThemeRename, await _object(request)).name
    return await run_in_threadpool(run_write, engine, lambda c: themes.rename(c, theme_id, name))


@router.post(
    "/api/themes/{theme_id}/merge", response_model=ThemeOut, openapi_extra=body(ThemeMerge)
)
async def merge_theme(
    theme_id: DbId, request: Request, engine: EngineDep, _actor: SurveysWrite
) -> Any:
    """Fold this theme into another: `{"into": other_theme_id}`."""
    into = validated(ThemeMerge, await _object(request)).into
    return await run_in_threadpool(run_write, engine, lambda c: themes.merge(c, theme_id, into))
