"""Import events from CSV or JSONL files in constant memory, setting bad rows aside."""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Engine

from hxpulse.config import Live
from hxpulse.errors import HXError, Invalid
from hxpulse.events.intake import describe
from hxpulse.events.schemas import EventCreate, EventIn, stable_message_id
from hxpulse.events.service import DEFAULT_LIVE, ingest

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


def csv_fields(row: dict[str, str]) -> dict[str, Any]:
    """Return the event fields of one CSV row (empty cells are absent)."""
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for column, cell in row.items():
        if cell is None or cell == "":
            continue
        if column.startswith("properties."):
            properties[column[11:]] = cell
        else:
            fields[column] = cell
    if properties:
        fields["properties"] = properties
    return fields


def csv_rows(
    handle: io.TextIOWrapper, check: Callable[[list[str]], None] = check_header
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, fields) of each CSV row, or (line, reason) for a malformed one; `check` refuses
    a bad header (line 1)."""
    reader = csv.DictReader(handle, strict=True)
    check(list(reader.fieldnames or []))
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"not valid CSV: {exc}"
            continue
        line = reader.line_num
        if None in row:
            yield line, f"{len(row[None])} more cells than the header has columns"
            continue
        yield line, csv_fields(row)


def jsonl_rows(handle: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield line, f"not valid JSON: {exc}"
            continue
        yield line, value if isinstance(value, dict) else "each line must be a JSON object"


def to_event(fields: dict[str, Any]) -> EventIn:
    """Validate one row's fields; without a message id, one is derived from the row."""
    if "message_id" not in fields:
        fields = {**fields, "message_id": stable_message_id("row", fields)}
    try:
        event = EventCreate.model_validate(fields)
    except ValidationError as exc:
        raise Invalid(describe(exc)) from None
    return event.to_event(source="import", id_prefix="row")


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
        with path.open("rb") as raw:
            handle = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            rows = csv_rows(handle) if path.suffix.lower() == ".csv" else jsonl_rows(handle)
            batch: list[EventIn] = []
            count = 0
            for line, fields in rows:
                count += 1
                try:
                    if isinstance(fields, str):
                        raise Invalid(fields)
                    batch.append(to_event(fields))
                except HXError as exc:
                    rejected.add(line, exc.message, fields)
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
    """FILE.rejects.csv, opened on the first bad row: line, reason, and the row's data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def __enter__(self) -> Rejects:
        return self

    def add(self, line: int, reason: str, fields: dict[str, Any] | str) -> None:
        if self._writer is None:
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", "data"])
        data = fields if isinstance(fields, str) else orjson.dumps(fields).decode()
        self._writer.writerow([line, reason, data])
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
