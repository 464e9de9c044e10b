"""JSON routes: surveys, invitations, answers, NPS/CSAT/CES reports and themes.

Reads need a signed-in person or an API key with `read`; writes a key with `write` (or a
signed-in person with the page's CSRF token)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, EngineDep, Reader, SettingsDep, check_writer
from hxpulse.errors import HXError, Invalid
from hxpulse.events.intake import describe
from hxpulse.surveys import kinds, report, sending, service, themes
from hxpulse.surveys.schemas import ResponseCreate
from hxpulse.web.body import read_json

router = APIRouter(tags=["surveys"])
MAX_BODY = 1024 * 1024
MAX_RESPONSES = 5000


async def _object(request: Request) -> dict[str, Any]:
    body = await read_json(request, MAX_BODY)
    if not isinstance(body, dict):
        raise Invalid(f"body must be a JSON object, got {type(body).__name__}")
    return body


@router.get("/api/surveys")
def list_surveys(conn: ConnDep, _who: Reader) -> dict[str, Any]:
    """Every survey with invitations sent, answers and response rate."""
    return {"items": service.list_surveys(conn)}


@router.post("/api/surveys", status_code=201)
async def create_survey(request: Request, engine: EngineDep, settings: SettingsDep) -> Any:
    """Define a survey: `{"name", "kind": "nps"|"csat"|"ces"|"custom", "question"?,
    "followups"?: {band: question}, "department"?, "touchpoint"?, "trigger_event"?,
    "segment_id"?, "every_days"?, "active"?}`."""
    await run_in_threadpool(check_writer, request)
    data = service.parse_survey(await _object(request))
    return await run_in_threadpool(
        run_write,
        engine,
        lambda conn: service.create(conn, data, settings=settings.surveys, now=datetime.now(UTC)),
    )


@router.get("/api/surveys/{ref}")
def get_survey(ref: str, conn: ConnDep, _who: Reader) -> dict[str, Any]:
    """One survey, by id or name, with its question and follow-up questions per band."""
    return service.find(conn, ref)


@router.put("/api/surveys/{survey_id}")
async def update_survey(
    survey_id: int, request: Request, engine: EngineDep, settings: SettingsDep
) -> Any:
    """Replace a survey's definition (same shape as creating it)."""
    await run_in_threadpool(check_writer, request)
    data = service.parse_survey(await _object(request))
    return await run_in_threadpool(
        run_write,
        engine,
        lambda conn: service.update_survey(
            conn, survey_id, data, settings=settings.surveys, now=datetime.now(UTC)
        ),
    )


@router.post("/api/surveys/{survey_id}/invite")
async def invite(survey_id: int, request: Request, engine: EngineDep, settings: SettingsDep) -> Any:
    """Invite `{"customer": ref}` or `{"customers": [ref, …]}` and/or `{"segment": id|name}`,
    `"via": "email"|"link"` (default: email when SMTP is configured). Returns who was invited
    with their links, and who the fatigue guard (or a missing address) skipped, and why."""
    await run_in_threadpool(check_writer, request)
    body = await _object(request)
    unknown = sorted(set(body) - {"customer", "customers", "segment", "via"})
    if unknown:
        raise Invalid(
            f"unknown keys: {', '.join(unknown)}",
            errors=[
                {"field": k, "message": "use customer, customers, segment, via"} for k in unknown
            ],
        )
    refs = body.get("customers") or []
    if "customer" in body:
        refs = [body["customer"], *refs]
    if not isinstance(refs, list) or not all(isinstance(r, str | int) for r in refs):
        raise Invalid(
            "customers: give a list of ids or identities",
            errors=[{"field": "customers", "message": "list of ids or identities"}],
        )
    segment = body.get("segment")
    via = body.get("via")
    if via is not None and via not in ("email", "link"):
        raise Invalid(
            "via: must be email or link", errors=[{"field": "via", "message": "email|link"}]
        )

    def work() -> dict[str, Any]:
        now = datetime.now(UTC)
        with engine.connect() as conn:
            survey = service.get(conn, survey_id)
            ids = sending.targets(
                conn, settings, customers=[str(r) for r in refs], segment=segment, now=now
            )
        result = sending.send(
            engine, settings, request.app.state.secret, survey, ids, via=via, now=now
        )
        return {"survey": survey["name"], **result.to_dict()}

    return await run_in_threadpool(work)


@router.post("/api/surveys/run")
async def run_due(request: Request, engine: EngineDep, settings: SettingsDep) -> Any:
    """Send every active survey's rule-based invitations now (triggered and recurring)."""
    await run_in_threadpool(check_writer, request)
    results = await run_in_threadpool(sending.run_due, engine, settings, request.app.state.secret)
    return {"surveys": {name: r.to_dict() for name, r in results.items()}}


@router.post("/api/responses")
async def post_responses(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    create_survey: str | None = Query(
        None, description="Create an unknown survey of this kind (nps, csat, ces, custom)."
    ),
) -> Any:
    """Answers to surveys run elsewhere: one answer object, or `{"responses": [...]}` (up to
    5,000). Each: `survey`, `score`, `answered_at`, an identity (`user_id`, `email`, `phone`,
    `anonymous_id`, `external_id`), and optional `why`, `department`, `channel`, `touchpoint`,
    `message_id`. Good answers are stored even when others are refused; refused ones are
    listed with their index and field."""
    await run_in_threadpool(check_writer, request)
    if create_survey is not None and create_survey not in kinds.SPECS:
        raise Invalid(
            f"create_survey: must be one of {', '.join(kinds.SPECS)}",
            errors=[{"field": "create_survey", "message": "unknown kind"}],
        )
    body = await _object(request)
    many = "responses" in body
    items = body["responses"] if many else [body]
    if not isinstance(items, list) or not items:
        raise Invalid(
            "responses: give a non-empty list of answers",
            errors=[{"field": "responses", "message": "non-empty list"}],
        )
    if len(items) > MAX_RESPONSES:
        raise Invalid(
            f"responses: at most {MAX_RESPONSES} answers per request",
            errors=[{"field": "responses", "message": "too many"}],
        )
    result = await run_in_threadpool(_store, engine, settings, items, create_survey)
    if not many and result["errors"]:
        error = result["errors"][0]
        raise Invalid(
            error["message"], errors=[{"field": error["field"], "message": error["message"]}]
        )
    return result


def _store(engine: Any, settings: Any, items: list[Any], create_kind: str | None) -> dict[str, Any]:
    def work(conn: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        answers: list[service.Answer] = []
        errors: list[dict[str, Any]] = []
        cache: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(items):
            prefix = f"responses[{index}]."
            try:
                if not isinstance(item, dict):
                    raise Invalid(
                        "each answer must be a JSON object",
                        errors=[{"field": "", "message": "not an object"}],
                    )
                data = ResponseCreate.model_validate(item)
                with conn.begin_nested():
                    answers.append(
                        service.answer_from(
                            conn,
                            data,
                            settings=settings.surveys,
                            now=now,
                            create_kind=create_kind,
                            cache=cache,
                        )
                    )
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                errors.append({"index": index, "field": prefix + field, "message": describe(exc)})
            except HXError as exc:
                field = exc.errors[0]["field"] if exc.errors else ""
                errors.append({"index": index, "field": prefix + field, "message": exc.message})
        stored = service.record(
            conn, answers, settings=settings.surveys, live=settings.live, now=now, source="api"
        )
        return {
            "received": len(items),
            "stored": stored.stored,
            "duplicates": stored.duplicates,
            "rejected": len(errors),
            "errors": errors,
        }

    return run_write(engine, work)


def _day(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{field}: {value!r} is not a date (YYYY-MM-DD)",
            errors=[{"field": field, "message": "YYYY-MM-DD"}],
        ) from None


@router.get("/api/nps")
def get_nps(
    conn: ConnDep,
    settings: SettingsDep,
    _who: Reader,
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
    from hxpulse.segments import service as segments

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
    from hxpulse.analytics import nps as stats

    a, b = (stats.nps_of(*totals[n][:3]) for n in names)
    return {
        "a": {by: names[0], **a.to_dict()},
        "b": {by: names[1], **b.to_dict()},
        **stats.compare_nps(a, b).to_dict(),
    }


@router.get("/api/responses")
def list_responses(
    conn: ConnDep,
    _who: Reader,
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


@router.get("/api/themes")
def list_themes(conn: ConnDep, _who: Reader) -> dict[str, Any]:
    """Themes of the NPS answers: mentions, share, NPS, and impact on the overall NPS."""
    return themes.drivers(conn)


@router.post("/api/themes/fit")
async def fit_themes(request: Request, engine: EngineDep) -> Any:
    """Discover themes from the answers again (replaces earlier themes, names and merges)."""
    await run_in_threadpool(check_writer, request)
    return await run_in_threadpool(
        run_write, engine, lambda conn: themes.fit(conn, now=datetime.now(UTC))
    )


@router.patch("/api/themes/{theme_id}")
async def rename_theme(theme_id: int, request: Request, engine: EngineDep) -> Any:
    """Rename a theme: `{"name": "Late deliveries"}`."""
    await run_in_threadpool(check_writer, request)
    body = await _object(request)
    name = body.get("name")
    if not isinstance(name, str):
        raise Invalid("name: give the new name", errors=[{"field": "name", "message": "required"}])
    return await run_in_threadpool(run_write, engine, lambda c: themes.rename(c, theme_id, name))


@router.post("/api/themes/{theme_id}/merge")
async def merge_theme(theme_id: int, request: Request, engine: EngineDep) -> Any:
    """Fold this theme into another: `{"into": other_theme_id}`."""
    await run_in_threadpool(check_writer, request)
    body = await _object(request)
    into = body.get("into")
    if not isinstance(into, int) or isinstance(into, bool):
        raise Invalid(
            "into: give the id of the theme to merge into",
            errors=[{"field": "into", "message": "a theme id"}],
        )
    return await run_in_threadpool(run_write, engine, lambda c: themes.merge(c, theme_id, into))
