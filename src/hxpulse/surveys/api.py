"""JSON routes: surveys, invitations and answers (reports and themes: `insights`).

Each route names its permission (auth.permissions): reads `surveys:read`, definitions
`surveys:write`, invitations `surveys:invite`, imported answers `responses:write`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from hxpulse.db.engine import run_write
from hxpulse.deps import (
    ConnDep,
    DbId,
    EngineDep,
    ResponsesWrite,
    SettingsDep,
    SurveysInvite,
    SurveysRead,
    SurveysWrite,
)
from hxpulse.errors import HXError, Invalid
from hxpulse.events.intake import describe
from hxpulse.surveys import insights, kinds, sending, service
from hxpulse.surveys.out import BatchOut, InviteOut, RunOut, SurveyList, SurveyOut
from hxpulse.surveys.schemas import MAX_RESPONSES, InviteIn, ResponseCreate, ResponsesIn, SurveyIn
from hxpulse.web.body import read_json, read_object
from hxpulse.web.checked import validated
from hxpulse.web.openapi import body
from hxpulse.web.text import refuse_nul

router = APIRouter(tags=["surveys"])
MAX_BODY = 1024 * 1024


async def _object(request: Request) -> dict[str, Any]:
    return await read_object(request, MAX_BODY)


@router.get("/api/surveys", response_model=SurveyList)
def list_surveys(conn: ConnDep, _actor: SurveysRead) -> dict[str, Any]:
    """Every survey with invitations sent, answers and response rate."""
    return {"items": service.list_surveys(conn)}


@router.post(
    "/api/surveys", status_code=201, response_model=SurveyOut, openapi_extra=body(SurveyIn)
)
async def create_survey(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SurveysWrite
) -> Any:
    """Define a survey: `{"name", "kind": "nps"|"csat"|"ces"|"custom", "question"?,
    "followups"?: {band: question}, "department"?, "touchpoint"?, "trigger_event"?,
    "segment_id"?, "every_days"?, "active"?}`."""
    data = service.parse_survey(await _object(request))
    return await run_in_threadpool(
        run_write,
        engine,
        lambda conn: service.create(conn, data, settings=settings.surveys, now=datetime.now(UTC)),
    )


@router.get("/api/surveys/{ref}", response_model=SurveyOut)
def get_survey(ref: str, conn: ConnDep, _actor: SurveysRead) -> dict[str, Any]:
    """One survey, by id or name, with its question and follow-up questions per band."""
    return service.find(conn, ref)


@router.put("/api/surveys/{survey_id}", response_model=SurveyOut, openapi_extra=body(SurveyIn))
async def update_survey(
    survey_id: DbId,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SurveysWrite,
) -> Any:
    """Replace a survey's definition (same shape as creating it)."""
    data = service.parse_survey(await _object(request))
    return await run_in_threadpool(
        run_write,
        engine,
        lambda conn: service.update_survey(
            conn, survey_id, data, settings=settings.surveys, now=datetime.now(UTC)
        ),
    )


@router.post(
    "/api/surveys/{survey_id}/invite", response_model=InviteOut, openapi_extra=body(InviteIn)
)
async def invite(
    survey_id: DbId,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SurveysInvite,
) -> Any:
    """Invite `{"customer": ref}` or `{"customers": [ref, …]}` and/or `{"segment": id|name}`,
    `"via": "email"|"link"` (default: email when SMTP is configured). Returns who was invited
    with their links, and who the fatigue guard (or a missing address) skipped, and why."""
    wanted = validated(InviteIn, await _object(request))
    refs, segment, via = wanted.refs(), wanted.segment, wanted.via

    def work() -> dict[str, Any]:
        now = datetime.now(UTC)
        with engine.connect() as conn:
            survey = service.get(conn, survey_id)
            ids = sending.targets(conn, settings, customers=refs, segment=segment, now=now)
        result = sending.send(
            engine, settings, request.app.state.secret, survey, ids, via=via, now=now
        )
        return {"survey": survey["name"], **result.to_dict()}

    return await run_in_threadpool(work)


@router.post("/api/surveys/run", response_model=RunOut)
async def run_due(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SurveysInvite
) -> Any:
    """Send every active survey's rule-based invitations now (triggered and recurring)."""
    results = await run_in_threadpool(sending.run_due, engine, settings, request.app.state.secret)
    return {"surveys": {name: r.to_dict() for name, r in results.items()}}


@router.post("/api/responses", response_model=BatchOut, openapi_extra=body(ResponsesIn))
async def post_responses(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: ResponsesWrite,
    create_survey: str | None = Query(
        None, description="Create an unknown survey of this kind (nps, csat, ces, custom)."
    ),
) -> Any:
    """Answers to surveys run elsewhere: one answer object, or `{"responses": [...]}` (up to
    5,000). Each: `survey`, `score`, `answered_at`, an identity (`user_id`, `email`, `phone`,
    `anonymous_id`, `external_id`), and optional `why`, `department`, `channel`, `touchpoint`,
    `message_id`. Good answers are stored even when others are refused; refused ones are
    listed with their index and field."""
    if create_survey is not None and create_survey not in kinds.SPECS:
        raise Invalid(
            f"create_survey: must be one of {', '.join(kinds.SPECS)}",
            errors=[{"field": "create_survey", "message": "unknown kind"}],
        )
    body = await read_json(request, MAX_BODY)  # text is checked answer by answer
    if not isinstance(body, dict):
        raise Invalid(f"body must be a JSON object, got {type(body).__name__}")
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
                refuse_nul(item)
                data = ResponseCreate.model_validate(item, context={"now": now})
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


router.include_router(insights.router)
