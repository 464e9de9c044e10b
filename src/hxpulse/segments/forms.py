"""The Segments page's builder: rows of form fields to a definition (and back, for re-display).

Each row is `c{N}.subject`, `.key`, `.op`, `.value`, `.channel`, `.days`, `.min`, `.max`,
`.negate`; `match` is `all` or `any`. The page's JavaScript (static/segments.js) builds the same
definition in the browser for the live count; this is what the form saves, with or without JS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from hxpulse.config import Live
from hxpulse.errors import Invalid
from hxpulse.segments import schemas as s

ROW_KEYS = ("subject", "key", "op", "value", "channel", "days", "min", "max", "negate")
MAX_ROWS = 30
BLANK_ROWS = 3
DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:d|days?)?\s*(?:ago)?\s*$", re.IGNORECASE)
TRUE, FALSE = {"true", "yes", "1", "on", "y"}, {"false", "no", "0", "off", "n"}
SUBJECTS = (*s.FIELDS, "trait", "consent", "identity", "event")


@dataclass
class Builder:
    """The builder's state: what the form holds, and what is wrong with it."""

    name: str = ""
    description: str = ""
    match: str = "all"
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def padded(self) -> list[dict[str, str]]:
        blank = dict.fromkeys(ROW_KEYS, "")
        rows = [dict(blank, **row) for row in self.rows]
        return rows + [dict(blank) for _ in range(max(BLANK_ROWS - len(rows), 1))]


def read_form(form: Any) -> Builder:
    builder = Builder(
        name=str(form.get("name", "")).strip(),
        description=str(form.get("description", "")).strip(),
        match="any" if form.get("match") == "any" else "all",
    )
    for n in range(MAX_ROWS):
        row = {k: str(form.get(f"c{n}.{k}", "")).strip() for k in ROW_KEYS}
        if row["subject"]:
            builder.rows.append(row)
    return builder


def _bool(text: str) -> object:
    low = text.lower()
    return True if low in TRUE else False if low in FALSE else text


def _number(text: str) -> object:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _loose(text: str) -> object:
    """A trait value as typed: JSON when it is (42, true, "42"), else the text itself."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _moment(text: str) -> object:
    days = DAYS.match(text)
    return {"days_ago": float(days.group(1))} if days else text


def _value(subject: str, op: str, text: str) -> object:
    if op == "exists":
        return True if not text else _bool(text)
    if op == "in":
        return [_value(subject, "eq", part.strip()) for part in text.split(",") if part.strip()]
    if subject == "trait":
        return _loose(text)
    kind = s.FIELDS[subject].value if subject in s.FIELDS else "text"
    if kind in ("number", "integer"):
        return _number(text)
    if kind == "bool":
        return _bool(text)
    if kind == "moment":
        return _moment(text)
    return text


def _int(text: str) -> object:
    return _number(text) if text else None


def row_condition(row: dict[str, str]) -> dict[str, Any]:
    subject, op, text = row["subject"], row["op"] or "eq", row["value"]
    condition: dict[str, Any]
    if subject == "trait":
        condition = {"trait": row["key"], "op": op, "value": _value(subject, op, text)}
    elif subject == "consent":
        condition = {"consent": row["key"], "status": text or "granted"}
    elif subject == "identity":
        op = op if op in ("exists", "eq", "ends_with") else "exists"
        condition = {"identity": row["key"] or "email", "op": op}
        condition["value"] = _value(subject, op, text) if op == "exists" else text
    elif subject == "event":
        types = [t.strip() for t in row["key"].split(",") if t.strip()]
        event: dict[str, Any] = {
            "type": types if len(types) > 1 else (types[0] if types else None),
            "channel": row["channel"] or None,
            "within_days": _int(row["days"]),
            "min_count": _int(row["min"]),
            "max_count": _int(row["max"]),
        }
        if event["min_count"] is None:
            event["min_count"] = 0 if event["max_count"] == 0 else 1
        condition = {"event": {k: v for k, v in event.items() if v is not None}}
    else:
        condition = {"field": subject, "op": op, "value": _value(subject, op, text)}
        if op == "exists" and not text:
            condition.pop("value")
    return {"not": condition} if row["negate"] else condition


def definition(builder: Builder) -> dict[str, Any]:
    if not builder.rows:
        raise Invalid(
            "add at least one condition",
            errors=[{"field": "definition", "message": "no condition"}],
        )
    return {builder.match: [row_condition(row) for row in builder.rows]}


def check(builder: Builder, live: Live) -> dict[str, Any] | None:
    """The definition, or None with `builder.errors` saying which row is wrong and why."""
    try:
        built = definition(builder)
        s.parse(built, live)
    except Invalid as exc:
        builder.errors = [_row_message(e, builder.match) for e in exc.errors] or [exc.message]
        return None
    return built


def _row_message(error: dict[str, Any], match: str) -> str:
    place = str(error.get("field", ""))
    found = re.match(rf"^definition\.{match}\[(\d+)\](?:\.not)?\.?(.*)$", place)
    if not found:
        return f"{place}: {error.get('message')}"
    where = f" ({found.group(2)})" if found.group(2) else ""
    return f"Condition {int(found.group(1)) + 1}{where}: {error.get('message')}"


def rows_of(definition: Any) -> tuple[str, list[dict[str, str]]]:
    """A saved definition as builder rows, when it has the builder's shape (else none)."""
    if not isinstance(definition, dict) or len(definition) != 1:
        return "all", []
    match, items = next(iter(definition.items()))
    if match not in ("all", "any") or not isinstance(items, list):
        return "all", []
    rows = []
    for item in items:
        negate = isinstance(item, dict) and set(item) == {"not"}
        row = _row_of(item["not"] if negate else item)
        if row is None:
            return "all", []
        rows.append(dict(row, negate="on" if negate else ""))
    return match, rows


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict) and "days_ago" in value:
        return f"{value['days_ago']:g} days"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _row_of(item: Any) -> dict[str, str] | None:
    if not isinstance(item, dict):
        return None
    if "field" in item:
        return {
            "subject": item["field"],
            "op": item.get("op", ""),
            "value": _text(item.get("value")),
        }
    if "trait" in item:
        value = item.get("value")
        shown = (
            _text(value)
            if isinstance(value, list)
            else (value if isinstance(value, str) else orjson.dumps(value).decode())
        )
        return {
            "subject": "trait",
            "key": item["trait"],
            "op": item.get("op", ""),
            "value": "" if value is None else shown,
        }
    if "consent" in item:
        return {"subject": "consent", "key": item["consent"], "value": item.get("status", "")}
    if "identity" in item:
        return {
            "subject": "identity",
            "key": item["identity"],
            "op": item.get("op", "exists"),
            "value": _text(item.get("value")) if item.get("op") != "exists" else "",
        }
    if "event" in item and isinstance(item["event"], dict):
        e = item["event"]
        if set(e) - {"type", "channel", "within_days", "min_count", "max_count"} or isinstance(
            e.get("channel"), list
        ):
            return None
        return {
            "subject": "event",
            "key": _text(e.get("type")),
            "channel": e.get("channel", ""),
            "days": _text(e.get("within_days")),
            "min": _text(e.get("min_count")),
            "max": _text(e.get("max_count")),
        }
    return None


# the builder's operators as its menu names them (the submitted values stay the codes)
OP_LABELS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "lt": "less than",
    "lte": "at most",
    "gt": "more than",
    "gte": "at least",
    "contains": "contains",
    "exists": "is set",
    "ends_with": "ends with",
}
OP_WORDS = {
    "eq": "=",
    "ne": "≠",
    "in": "is one of",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "contains": "contains",
    "ends_with": "ends with",
}


def describe(node: Any) -> str:
    """A definition in words, for people: `stage ≥ customer and not (…)`."""
    if not isinstance(node, dict) or len(node) == 0:
        return "?"
    if "all" in node or "any" in node:
        word = " and " if "all" in node else " or "
        parts = node.get("all") or node.get("any") or []
        inner = word.join(describe(p) for p in parts)
        return f"({inner})" if len(parts) > 1 else inner
    if "not" in node:
        return f"not {describe(node['not'])}"
    if "event" in node:
        e = node["event"]
        low, high = e.get("min_count", 1), e.get("max_count")
        count = (
            f"{low} to {high}"
            if high is not None and high != low
            else f"exactly {low}"
            if high is not None
            else f"at least {low}"
        )
        if high == 0:
            count = "no"
        what = _text(e.get("type")) or "any"
        text = f"{count} {what} event{'s' if count != 'at least 1' else ''}"
        if e.get("channel"):
            text += f" via {_text(e['channel'])}"
        if e.get("department"):
            text += f" in {_text(e['department'])}"
        if e.get("min_value") is not None:
            text += f" worth ≥ {e['min_value']:g}"
        if e.get("min_total") is not None:
            text += f" totalling ≥ {e['min_total']:g}"
        if e.get("within_days") is not None:
            text += f" in the last {e['within_days']:g} days"
        return text
    if "consent" in node:
        return f"consent {node['consent']} is {node.get('status', 'granted')}"
    subject = (
        node.get("field")
        or (f"trait {node['trait']}" if "trait" in node else None)
        or f"identity {node.get('identity')}"
    )
    op, value = node.get("op", "exists"), node.get("value")
    if op == "exists":
        return f"{subject} {'exists' if value is not False else 'is missing'}"
    shown = _text(value) if not isinstance(value, dict) else f"{value['days_ago']:g} days ago"
    return f"{subject} {OP_WORDS.get(op, op)} {shown}"
