"""Import events from CSV or JSONL files in constant memory, setting bad rows aside."""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import Engine

from hxpulse.config import Live
from hxpulse.errors import HXError, Invalid
from hxpulse.events.intake import describe
from hxpulse.events.rows import Row, csv_rows, jsonl_rows
from hxpulse.events.schemas import EventCreate, EventIn, stable_message_id
from hxpulse.ingest import DEFAULT_LIVE, ingest
from hxpulse.web.text import refuse_nul

BATCH = 5000
IDENTITY_COLUMNS = ("user_id", "email", "phone", "anonymous_id")
CSV_COLUMNS = {"type", "occurred_at", "message_id", "channel", "department", "value",
               "currency", "name", *IDENTITY_COLUMNS}  # fmt: skip
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ImportSummary:
    """How an import went: rows read, stored, already there, of erased people, set aside."""

    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    erased: int = 0
    rejected: int = 0
    rejects_path: Path | None = None


def rejects_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def check_header(header: list[str]) -> None:
    """Refuse a CSV header that lacks required columns or has unknown ones (line 1)."""
    missing = [c for c in ("type", "occurred_at") if c not in header]
    if missing:
        raise Invalid(f"line 1: the header lacks the required column(s) {', '.join(missing)}")
    if not any(c in header for c in IDENTITY_COLUMNS):
        raise Invalid(f"line 1: the header needs at least one of {', '.join(IDENTITY_COLUMNS)}")
    unknown = [c for c in header if c not in CSV_COLUMNS and not c.startswith("properties.")]
    if unknown:
        raise Invalid(
            f"line 1: unknown column(s) {', '.join(unknown)}; extra data goes in properties.KEY"
        )


def to_event(fields: dict[str, Any], *, now: datetime | None = None) -> EventIn:
    """Validate one row's fields (moments against `now`, the start of the import); without a
    message id, one is derived from the row."""
    refuse_nul(fields)
    if "message_id" not in fields:
        fields = {**fields, "message_id": stable_message_id("row", fields)}
    try:
        event = EventCreate.model_validate(fields, context={"now": now or datetime.now(UTC)})
    except ValidationError as exc:
        raise Invalid(describe(exc)) from None
    return event.to_event(source="import", id_prefix="row")


def rows_of(raw: IO[bytes], path: Path, check: Callable[[list[str]], None]) -> Iterator[Row]:
    """The rows of `path`, read as CSV (its header checked by `check`) or as JSONL."""
    return csv_rows(raw, check) if path.suffix.lower() == ".csv" else jsonl_rows(raw)


def import_events(
    engine: Engine,
    path: Path,
    *,
    live: Live | None = DEFAULT_LIVE,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Import `path` (.csv or .jsonl/.ndjson) batch by batch; bad rows go to FILE.rejects.csv.

    A reader thread parses and validates the next batch while this thread stores the current
    one (the database drivers release the interpreter lock while they work).
    """
    summary = ImportSummary()
    rejects = rejects_path_for(path)
    rejects.unlink(missing_ok=True)
    parsed: queue.Queue[_Parsed | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()
    with Rejects(rejects) as rejected:
        reader = threading.Thread(
            target=_read, args=(path, batch_size, rejected, parsed, stop), daemon=True
        )
        reader.start()
        try:
            while (item := parsed.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item.events:
                    result = ingest(engine, item.events, live=live)
                    summary.stored += result.stored
                    summary.duplicates += result.duplicates
                    summary.erased += result.erased
                summary.rows = item.rows
                if progress is not None:
                    progress(item.position, item.rows)
        finally:
            stop.set()
            _drain(parsed, reader)
        summary.rejected = rejected.count
    summary.rejects_path = rejects if summary.rejected else None
    return summary


@dataclass(slots=True)
class _Parsed:
    events: list[EventIn]
    rows: int
    position: int


def _read(
    path: Path,
    batch_size: int,
    rejected: Rejects,
    out: queue.Queue[_Parsed | BaseException | None],
    stop: threading.Event,
) -> None:
    """Parse `path` into batches of valid events, setting bad rows aside (runs in a thread)."""
    try:
        now = datetime.now(UTC)
        with path.open("rb") as raw:
            batch: list[EventIn] = []
            count = 0
            for row in rows_of(raw, path, check_header):
                count += 1
                try:
                    if row.fields is None:
                        raise Invalid(row.problem or "not a row")
                    batch.append(to_event(row.fields, now=now))
                except HXError as exc:
                    rejected.add(row.line, exc.message, row.text)
                if len(batch) >= batch_size:
                    if stop.is_set():
                        return  # the importing thread gave up
                    out.put(_Parsed(batch, count, raw.tell()))
                    batch = []
            out.put(_Parsed(batch, count, raw.tell()))
        out.put(None)
    except BaseException as exc:  # noqa: BLE001 - re-raised by the importing thread
        out.put(exc)


def _drain(parsed: queue.Queue[_Parsed | BaseException | None], reader: threading.Thread) -> None:
    """Let the reader finish (it may be blocked on a full queue after an error)."""
    while reader.is_alive():
        try:
            parsed.get(timeout=0.1)
        except queue.Empty:
            continue


class Rejects:
    """FILE.rejects.csv, opened on the first bad row: the line the row starts on, the reason
    (naming the column), and the row's text as in the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def __enter__(self) -> Rejects:
        return self

    def add(self, line: int, reason: str, text: str) -> None:
        """Set aside the row starting on `line`, why, and its text as in the file."""
        if self._writer is None:
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", "data"])
        self._writer.writerow([line, reason, text])
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
