"""JSON routes for saved segments: CRUD, members, CSV export and the live count of a draft."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.deps import (
    ConnDep,
    DbId,
    EngineDep,
    SegmentsExport,
    SegmentsRead,
    SegmentsWrite,
    SettingsDep,
)
from hxpulse.segments import service, shapes
from hxpulse.segments.shapes import (
    CSV,
    Count,
    MembersPage,
    SegmentCounted,
    SegmentDraft,
    SegmentIn,
    SegmentList,
    SegmentOut,
)
from hxpulse.web.body import read_object
from hxpulse.web.openapi import body as described

router = APIRouter(prefix="/api/segments", tags=["segments"])
MAX_BODY = 256 * 1024
M = TypeVar("M", bound=SegmentDraft | SegmentIn)


async def _body(request: Request, settings: Settings, model: type[M]) -> tuple[M, Any]:
    """The body checked as `model`, and its definition as sent (the service reads that)."""
    body = await read_object(request, MAX_BODY)
    return shapes.parse(model, body, settings.live), body["definition"]


@router.get("", response_model=SegmentList, response_model_exclude_unset=True)
def list_segments(conn: ConnDep, settings: SettingsDep, _actor: SegmentsRead) -> dict[str, Any]:
    """Every saved segment with its live member count."""
    items = service.list_segments(conn, settings.live, datetime.now(UTC))
    return {"items": items}


@router.post("", status_code=201, response_model=SegmentCounted, openapi_extra=described(SegmentIn))
async def create_segment(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SegmentsWrite
) -> Any:
    """Save a segment: `{"name", "description"?, "definition"}`."""
    data, definition = await _body(request, settings, SegmentIn)

    def work() -> dict[str, Any]:
        now = datetime.now(UTC)
        made = run_write(engine, lambda conn: service.create(
            conn, settings.live, name=data.name, description=data.description,
            definition=definition, now=now))  # fmt: skip
        with engine.connect() as conn:
            made["count"] = service.count(conn, settings.live, made["definition"], now)
        return made

    return await run_in_threadpool(work)


@router.post("/count", response_model=Count, openapi_extra=described(SegmentDraft))
async def count_draft(
    request: Request, engine: EngineDep, settings: SettingsDep, _actor: SegmentsRead
) -> Any:
    """Count the customers an unsaved definition matches now: `{"definition": ...}`."""
    _, definition = await _body(request, settings, SegmentDraft)

    def work() -> dict[str, Any]:
        with engine.connect() as conn:
            return {"count": service.count(conn, settings.live, definition, datetime.now(UTC))}

    return await run_in_threadpool(work)


@router.get("/{segment_id}", response_model=SegmentCounted)
def get_segment(
    segment_id: DbId, conn: ConnDep, settings: SettingsDep, _actor: SegmentsRead
) -> dict[str, Any]:
    """One segment with its live member count."""
    found = service.get(conn, segment_id)
    found["count"] = service.count(conn, settings.live, found["definition"], datetime.now(UTC))
    return found


@router.put("/{segment_id}", response_model=SegmentOut, openapi_extra=described(SegmentIn))
async def update_segment(
    segment_id: DbId,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SegmentsWrite,
) -> Any:
    """Replace a segment's name, description and definition."""
    data, definition = await _body(request, settings, SegmentIn)

    def work() -> dict[str, Any]:
        return run_write(engine, lambda conn: service.update(
            conn, settings.live, segment_id, name=data.name, description=data.description,
            definition=definition))  # fmt: skip

    return await run_in_threadpool(work)


@router.delete("/{segment_id}", status_code=204)
def delete_segment(segment_id: DbId, engine: EngineDep, _actor: SegmentsWrite) -> None:
    """Delete a segment (its customers are untouched)."""
    run_write(engine, lambda conn: service.remove(conn, segment_id))


@router.get("/{segment_id}/members", response_model=MembersPage)
def segment_members(
    segment_id: DbId,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: SegmentsRead,
    limit: int = Query(50, ge=1, le=service.MAX_MEMBERS_PAGE),
    offset: int = Query(0, ge=0, le=100_000_000),
) -> dict[str, Any]:
    """One page of members by customer id: id, name, email, phone, stage, pulse, band."""
    found = service.get(conn, segment_id)
    items = service.members(
        conn, settings.live, found["definition"], datetime.now(UTC), limit=limit, offset=offset
    )
    return {
        "segment": {"id": found["id"], "name": found["name"]},
        "items": items,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{segment_id}/export.csv", response_class=StreamingResponse, responses=CSV)
def export_segment(
    segment_id: DbId,
    conn: ConnDep,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SegmentsExport,
) -> StreamingResponse:
    """Every member as CSV, streamed."""
    found = service.get(conn, segment_id)
    chunks = service.export_csv(engine, settings.live, found["definition"], datetime.now(UTC))
    slug = "".join(
        ch if ch.isascii() and ch.isalnum() else "-" for ch in found["name"].lower()
    ).strip("-")  # fmt: skip  (a header is latin-1)
    headers = {"content-disposition": f'attachment; filename="segment-{slug or found["id"]}.csv"'}
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)
