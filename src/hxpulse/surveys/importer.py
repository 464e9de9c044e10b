"""`hxpulse import responses FILE`: answers to surveys run elsewhere, from CSV or JSONL.

Columns: `survey`, `score`, `answered_at`, an identity column as for events (`user_id`,
`email`, `phone`, `anonymous_id`, `external_id`), and optional `why`, `department`,
`channel`, `touchpoint`, `message_id`. Bad rows go to FILE.rejects.csv with their line number
and reason; good rows are stored batch by batch (a re-import adds nothing: each row's message
id is derived from its content unless given)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.errors import HXError, Invalid
from hxpulse.events.importer import ImportSummary, Rejects, rejects_path_for, rows_of
from hxpulse.events.intake import describe
from hxpulse.events.rows import Row
from hxpulse.surveys import kinds, service
from hxpulse.surveys.schemas import ResponseCreate
from hxpulse.web.text import refuse_nul

BATCH = 2000
IDENTITY_COLUMNS = ("user_id", "email", "phone", "anonymous_id", "external_id")
COLUMNS = {
    "survey",
    "score",
    "answered_at",
    "why",
    "department",
    "channel",
    "touchpoint",
    "message_id",
    *IDENTITY_COLUMNS,
}
Progress = Callable[[int], None]


def check_header(header: list[str]) -> None:
    """Refuse a header that lacks required columns or has unknown ones (line 1)."""
    missing = [c for c in ("survey", "score", "answered_at") if c not in header]
    if missing:
        raise Invalid(f"line 1: the header lacks the required column(s) {', '.join(missing)}")
    if not any(c in header for c in IDENTITY_COLUMNS):
        raise Invalid(f"line 1: the header needs at least one of {', '.join(IDENTITY_COLUMNS)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise Invalid(
            f"line 1: unknown column(s) {', '.join(unknown)}; expected {', '.join(sorted(COLUMNS))}"
        )


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def import_responses(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    create_kind: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Import `path` (.csv, .jsonl or .ndjson); `create_kind` creates unknown surveys."""
    if create_kind is not None and create_kind not in kinds.SPECS:
        raise Invalid(f"--create-survey must be one of {', '.join(kinds.SPECS)}")
    summary = ImportSummary()
    rejects = rejects_path_for(path)
    rejects.unlink(missing_ok=True)
    cache: dict[str, dict[str, Any]] = {}
    with Rejects(rejects) as rejected, path.open("rb") as raw:
        batch: list[Row] = []
        for row in rows_of(raw, path, check_header):
            summary.rows += 1
            if row.fields is None:
                rejected.add(row.line, row.problem or "not a row", row.text)
                continue
            batch.append(row)
            if len(batch) >= batch_size:
                _store(engine, settings, batch, create_kind, cache, rejected, summary)
                batch = []
                if progress is not None:
                    progress(summary.rows)
        _store(engine, settings, batch, create_kind, cache, rejected, summary)
        summary.rejected = rejected.count
    summary.rejects_path = rejects if summary.rejected else None
    return summary


def _store(
    engine: Engine,
    settings: Settings,
    batch: list[Row],
    create_kind: str | None,
    cache: dict[str, dict[str, Any]],
    rejected: Rejects,
    summary: ImportSummary,
) -> None:
    if not batch:
        return
    now = datetime.now(UTC)

    Bad = list[tuple[Row, str]]

    def work(conn: Connection) -> tuple[service.Recorded, Bad, dict[str, dict[str, Any]]]:
        known = dict(cache)  # a retried attempt must not see surveys a rolled-back one made
        answers: list[service.Answer] = []
        bad: Bad = []
        for row in batch:
            try:
                fields = _clean(row.fields or {})
                refuse_nul(fields)
                data = ResponseCreate.model_validate(fields, context={"now": now})
                with conn.begin_nested():
                    answers.append(
                        service.answer_from(
                            conn,
                            data,
                            settings=settings.surveys,
                            now=now,
                            create_kind=create_kind,
                            cache=known,
                        )
                    )
            except ValidationError as exc:
                bad.append((row, describe(exc)))
            except HXError as exc:
                bad.append((row, exc.message))
        stored = service.record(
            conn, answers, settings=settings.surveys, live=settings.live, now=now, source="import"
        )
        return stored, bad, known

    stored, bad, known = run_write(engine, work)
    cache.update(known)
    for row, reason in bad:
        rejected.add(row.line, reason, row.text)
    summary.stored += stored.stored
    summary.duplicates += stored.duplicates
