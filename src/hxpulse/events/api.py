"""Tracking endpoints (Segment HTTP API) and the product's own event API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from hxpulse.deps import EventsWrite, SettingsDep, basic_user, bearer_token, require_scope
from hxpulse.errors import HXError, Invalid
from hxpulse.events import intake, segment
from hxpulse.events.browser import SHORT_PATHS, allowed_origin
from hxpulse.events.moments import UtcMoment
from hxpulse.events.schemas import EventBatch, EventCreate, IngestResult, TrackResult
from hxpulse.web import openapi
from hxpulse.web.body import read_json
from hxpulse.web.openapi import BEARER_KEY, WRITE_KEY

_OPTIONAL_MOMENT: TypeAdapter[datetime | None] = TypeAdapter(UtcMoment | None)
tracking = APIRouter(
    prefix="/v1",
    tags=["tracking (Segment-compatible)"],
    # a web page's origin must be one its key lists; the key schemes are declared for the
    # API description (_authorised_body checks the key)
    dependencies=[Depends(allowed_origin), Depends(WRITE_KEY), Depends(BEARER_KEY)],
)
router = APIRouter(prefix="/api", tags=["events"])


def _as_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid(f"body must be a JSON object, got {type(body).__name__}")
    return body


async def _authorised_body(request: Request, limit: int) -> dict[str, Any]:
    """The body of a tracking call whose write key is good: a key in the Authorization header
    is checked before the body is read; without one, the body must name a `writeKey`."""
    key = basic_user(request) or bearer_token(request)
    if key is not None:
        require_scope(request, key, "track")
        return _as_object(await read_json(request, limit))
    try:
        body = _as_object(await read_json(request, limit))
    except HXError:
        body = {}
    written = body.get("writeKey")
    require_scope(request, written if isinstance(written, str) else None, "track")
    return body


def _sent_at(body: dict[str, Any]) -> datetime | None:
    try:
        return _OPTIONAL_MOMENT.validate_python(body.get("sentAt"))
    except ValidationError as exc:
        raise Invalid(f"sentAt: {exc.errors()[0]['msg']}") from None


async def _answer(request: Request, checked: intake.Checked, total: int) -> dict[str, Any]:
    if not checked.events:
        problems = "; ".join(f"[{r['index']}] {r['message']}" for r in checked.rejected[:5])
        raise Invalid(f"no valid message in the request: {problems}", errors=checked.rejected)
    committer = request.app.state.committer
    result: IngestResult = await run_in_threadpool(committer.ingest, checked.events)
    return {
        "success": True,
        "received": total,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "erased": result.erased,
        "rejected": checked.rejected,
    }


async def _track_calls(request: Request, settings: Any, kind: str | None) -> dict[str, Any]:
    limit = settings.max_batch_bytes if kind is None else settings.max_message_bytes
    body = await _authorised_body(request, limit)
    received = datetime.now(UTC)
    sent_at = _sent_at(body)
    if kind is None:
        items = body.get("batch")
        if not isinstance(items, list) or not items:
            raise Invalid("batch: expected a non-empty list of messages")
    else:
        items = [{**body, "type": kind}]

    def convert(msg: segment.SegmentMessage) -> Any:
        if msg.type is None:
            raise Invalid("type: each batch message needs a type (track, identify, …)")
        return segment.to_event(msg, kind=msg.type, received_at=received, sent_at=sent_at)

    checked = intake.check_all(
        items, segment.SegmentMessage, convert, max_bytes=settings.max_message_bytes, now=received
    )
    return await _answer(request, checked, len(items))


def _single(kind: str) -> Any:
    async def endpoint(request: Request, settings: SettingsDep) -> Any:
        return await _track_calls(request, settings, kind)

    endpoint.__doc__ = f"Record one Segment `{kind}` call (write key as the HTTP Basic user)."
    endpoint.__name__ = f"segment_{kind}"
    return endpoint


def _call_body(kind: str) -> dict[str, Any]:
    return openapi.body(
        segment.SegmentMessage,
        f"One Segment message (at most `max_message_bytes`); its `type` is `{kind}` whatever"
        " it says. Without an Authorization header the body names its `writeKey`.",
    )


for _kind in ("track", "identify", "alias", "page", "screen", "group"):
    tracking.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"],
                           response_model=TrackResult, openapi_extra=_call_body(_kind))  # fmt: skip
# analytics.js (in browsers) posts the same calls to /v1/t, /v1/i, … and batches to /v1/b
for _letter, _kind in SHORT_PATHS.items():
    tracking.add_api_route(f"/{_letter}", _single(_kind), methods=["POST"],
                           response_model=TrackResult, include_in_schema=False)  # fmt: skip


@tracking.post(
    "/batch", response_model=TrackResult, openapi_extra=openapi.body(segment.SegmentBatch)
)
async def segment_batch(request: Request, settings: SettingsDep) -> Any:
    """Record a Segment batch (up to 500 KB, 32 KB a message); a 200 means it is committed."""
    return await _track_calls(request, settings, None)


tracking.add_api_route(
    "/b", segment_batch, methods=["POST"], response_model=TrackResult, include_in_schema=False
)


@router.post("/events", response_model=TrackResult, openapi_extra=openapi.body(EventBatch))
async def create_events(request: Request, settings: SettingsDep, _actor: EventsWrite) -> Any:
    """Record events in HX Pulse's own shape: `{"events": [...]}` (API key with `write`)."""
    body = _as_object(await read_json(request, settings.max_batch_bytes))
    items = body.get("events")
    if not isinstance(items, list) or not items:
        raise Invalid("events: expected a non-empty list of events")
    checked = intake.check_all(
        items,
        EventCreate,
        lambda e: e.to_event(source="api"),
        max_bytes=settings.max_message_bytes,
        now=datetime.now(UTC),
    )
    return await _answer(request, checked, len(items))
