"""Read CSV and JSONL files row by row from their bytes, so that one bad row is only that row.

Every row keeps the physical line it starts on (the header is line 1) and its text as in the
file, for the rejects file. A row is bad on its own, and reading goes on after it, when:

- a line is not valid UTF-8 (the text shows the bytes that are not as `\\xNN`);
- a CSV quote does not close: a quoted cell may span at most `MAX_ROW_LINES` lines; a quote
  still open after them (or at the end of the file), or one whose row does not come out as
  one well-formed row with the header's number of cells, sets aside only the line it opens on,
  and reading resumes at the next line, so an unterminated quote swallows no row after it;
- a CSV row has more or fewer cells than the header has columns;
- a JSONL line is not one JSON object (or nests deeper than the body limit).
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from hxpulse.errors import Invalid
from hxpulse.web.body import parse_json

MAX_ROW_LINES = 20
BOM = b"\xef\xbb\xbf"
Line = tuple[int, bytes]


@dataclass(slots=True)
class Row:
    """One row: where it starts, its text as in the file, and its fields or what is wrong."""

    line: int
    text: str
    fields: dict[str, Any] | None = None
    problem: str | None = None


def csv_fields(row: dict[str, str]) -> dict[str, Any]:
    """Return the event fields of one CSV row (empty cells are absent)."""
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for column, cell in row.items():
        if cell == "":
            continue
        if column.startswith("properties."):
            properties[column[11:]] = cell
        else:
            fields[column] = cell
    if properties:
        fields["properties"] = properties
    return fields


def csv_rows(raw: IO[bytes], check: Callable[[list[str]], None]) -> Iterator[Row]:
    """The rows of a CSV file after its header, which `check` may refuse (Invalid, line 1)."""
    lines = _lines(raw)
    header = _header(next(lines, None))
    check(header)
    pending: deque[Line] = deque()

    def take() -> Line | None:
        return pending.popleft() if pending else next(lines, None)

    while (first := take()) is not None:
        if first[1].strip():
            yield _csv_row(header, first, take, pending)


def jsonl_rows(raw: IO[bytes]) -> Iterator[Row]:
    """One row per non-blank line, each a JSON object."""
    for number, data in _lines(raw):
        if not data.strip():
            continue
        text = _shown(_text(data))
        problem = _not_utf8(_text(data))
        if problem is not None:
            yield Row(number, text, problem=f"line {number} is {problem}")
            continue
        try:
            value = parse_json(data, "the line")
        except Invalid as exc:
            yield Row(number, text, problem=exc.message)
            continue
        if isinstance(value, dict):
            yield Row(number, text, fields=value)
        else:
            yield Row(number, text, problem="each line must be a JSON object")


def _lines(raw: IO[bytes]) -> Iterator[Line]:
    for number, data in enumerate(raw, start=1):
        yield number, data.removeprefix(BOM) if number == 1 else data


def _header(first: Line | None) -> list[str]:
    if first is None:
        return []
    text = _text(first[1])
    problem = _not_utf8(text)
    if problem is not None:
        raise Invalid(f"line 1: the header is {problem}")
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        raise Invalid(f"line 1: the header is not valid CSV: {exc}") from None


def _csv_row(
    header: list[str], first: Line, take: Callable[[], Line | None], pending: deque[Line]
) -> Row:
    """The row starting at `first`, reading more lines while a quoted cell is open."""
    record = [first]
    if b'"' not in first[1]:  # the usual row: one line, no quoted cell, cells split at commas
        text = _text(first[1])
        return _checked_row(header, record, pending, text, _line_end(text).split(","))
    while True:
        text = "".join(_text(data) for _, data in record)
        try:
            cells = next(csv.reader(io.StringIO(text, newline="\n"), strict=True), [])
            break
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return _set_aside_first(record, pending, str(exc))
        more = take() if len(record) < MAX_ROW_LINES else None
        if more is None:
            reach = "before the end of the file" if len(record) < MAX_ROW_LINES else (
                f"within {MAX_ROW_LINES} lines")  # fmt: skip
            return _set_aside_first(record, pending, f"the quote does not close {reach}")
        record.append(more)
    return _checked_row(header, record, pending, text, cells)


def _checked_row(
    header: list[str], record: list[Line], pending: deque[Line], text: str, cells: list[str]
) -> Row:
    """The row of `record` (its `text`, split into `cells`), or what is wrong with it."""
    number = record[0][0]
    if len(cells) != len(header):
        problem = f"{len(cells)} cells where the header has {len(header)} columns"
        if len(record) > 1:  # most likely a quote that does not close where it should
            return _set_aside_first(record, pending, problem)
        return Row(number, _shown(text), problem=problem)
    if _not_utf8(text) is not None:  # name the first column holding the bytes
        for column, cell in zip(header, cells, strict=True):
            undecodable = _not_utf8(cell)
            if undecodable is not None:
                return Row(number, _shown(text), problem=f"{column}: the cell is {undecodable}")
    return Row(number, _line_end(text), fields=csv_fields(dict(zip(header, cells, strict=True))))


def _set_aside_first(record: list[Line], pending: deque[Line], problem: str) -> Row:
    """Reject the first line of `record` alone (not valid CSV: `problem`); its other lines are
    read again as rows."""
    pending.extendleft(reversed(record[1:]))
    number, data = record[0]
    if len(record) > 1:
        problem = (
            f"the quoted cell that opens on this line does not close properly ({problem}); "
            "only this line is set aside, reading goes on at the next one"
        )
    return Row(number, _shown(_text(data)), problem=f"not valid CSV: {problem}")


def _text(data: bytes) -> str:
    """A line's text; bytes that are not UTF-8 become lone surrogates, found by `_not_utf8`."""
    return data.decode("utf-8", errors="surrogateescape")


def _not_utf8(text: str) -> str | None:
    """What is wrong with `text`'s bytes, or None when they were all UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = ord(text[exc.start]) - 0xDC00
        return f"not valid UTF-8 (byte 0x{byte:02x} at character {exc.start + 1})"
    return None


def _line_end(text: str) -> str:
    """`text` without its line break."""
    return text.removesuffix("\n").removesuffix("\r")


def _shown(text: str) -> str:
    """The text as in the file for the rejects file: bytes that are not UTF-8 as `\\xNN`."""
    raw = _line_end(text).encode("utf-8", errors="surrogateescape")
    return raw.decode("utf-8", errors="backslashreplace")
