"""The Segments pages: saved segments with live counts, the builder, and one segment's members."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse.analytics.pulse import BANDS
from hxpulse.config import Settings
from hxpulse.db.base import MAX_ID
from hxpulse.db.engine import run_write
from hxpulse.deps import ConnDep, DbId, EngineDep, SegmentsRead, SegmentsWrite, SettingsDep
from hxpulse.errors import HXError
from hxpulse.events.models import CHANNELS
from hxpulse.segments import forms, service
from hxpulse.segments import schemas as s
from hxpulse.web import csrf
from hxpulse.web.render import page
from hxpulse.web.text import checked_form

router = APIRouter()
PER_PAGE = 50


def _choices(settings: Settings) -> dict[str, object]:
    return {
        "subjects": forms.SUBJECTS,
        "fields": s.FIELDS,
        "channels": CHANNELS,
        "stages": settings.journey.stage_names,
        "bands": list(BANDS),
        "identity_kinds": s.IdentityCondition.model_fields["identity"].annotation.__args__,  # type: ignore[union-attr]
        "trait_ops": s.TRAIT_OPS,
        "op_labels": forms.OP_LABELS,
    }


def _index(
    request: Request,
    conn: ConnDep,
    settings: Settings,
    builder: forms.Builder,
    status_code: int = 200,
) -> Response:
    items = service.list_segments(conn, settings.live, datetime.now(UTC))
    return page(
        request,
        "segments.html",
        status_code=status_code,
        items=items,
        builder=builder,
        **_choices(settings),
    )


@router.get("/segments")
def segments_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: SegmentsRead,
    copy: int | None = Query(None, alias="from", ge=1, le=MAX_ID),
) -> Response:
    builder = forms.Builder()
    if copy is not None:
        found = service.get(conn, copy)
        builder.match, builder.rows = forms.rows_of(found["definition"])
        builder.name, builder.description = f"{found['name']} (copy)", found["description"] or ""
    return _index(request, conn, settings, builder)


@router.post("/segments")
async def save_segment(
    request: Request,
    conn: ConnDep,
    engine: EngineDep,
    settings: SettingsDep,
    _actor: SegmentsWrite,
) -> Response:
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    builder = forms.read_form(form)
    definition = forms.check(builder, settings.live)
    if definition is not None:
        try:
            made = run_write(engine, lambda write: service.create(
                write, settings.live, name=builder.name,
                description=builder.description or None, definition=definition))  # fmt: skip
        except HXError as exc:
            builder.errors = [exc.message]
        else:
            return RedirectResponse(f"/segments/{made['id']}", status_code=303)
    return _index(request, conn, settings, builder, status_code=400)


@router.get("/segments/{segment_id}")
def segment_page(
    request: Request,
    segment_id: DbId,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: SegmentsRead,
    page_no: int = Query(1, ge=1, le=1_000_000, alias="page"),
) -> Response:
    found = service.get(conn, segment_id)
    now = datetime.now(UTC)
    error, total, members = None, None, []
    try:
        total = service.count(conn, settings.live, found["definition"], now)
        members = service.members(
            conn,
            settings.live,
            found["definition"],
            now,
            limit=PER_PAGE + 1,
            offset=(page_no - 1) * PER_PAGE,
        )
    except HXError as exc:  # the configuration changed under the saved definition
        error = exc.message
    return page(
        request,
        "segment.html",
        segment=found,
        total=total,
        error=error,
        members=members[:PER_PAGE],
        has_next=len(members) > PER_PAGE,
        page_no=page_no,
        described=forms.describe(found["definition"]),
        definition_json=orjson.dumps(found["definition"], option=orjson.OPT_INDENT_2).decode(),
    )


@router.post("/segments/{segment_id}/delete")
async def delete_segment(
    request: Request, segment_id: DbId, engine: EngineDep, _actor: SegmentsWrite
) -> Response:
    form = checked_form(await request.form())
    csrf.check(request, str(form.get("csrf_token", "")))
    run_write(engine, lambda conn: service.remove(conn, segment_id))
    return RedirectResponse("/segments", status_code=303)
