"""Saved segments: a definition compiled to one SQL condition on `customers`, counted and listed
by the database (never by loading customers into Python).

Time-dependent parts (pulse and band thresholds on the decay-invariant key S, event windows,
`days_ago`, the overlays) are computed from `now` each time a segment is evaluated, so a saved
segment is always current.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Float,
    Table,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from hxpulse.clv.models import CustomerValue
from hxpulse.config import Live
from hxpulse.customers.identity import normalise
from hxpulse.customers.service import customers_t, events_t, identities_t
from hxpulse.db.base import parse_id
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.events.moments import to_utc
from hxpulse.journey import overlays
from hxpulse.pulse import bands
from hxpulse.pulse.service import model
from hxpulse.segments import schemas as s
from hxpulse.segments.models import Segment
from hxpulse.surveys.models import Survey

segments_t = cast(Table, Segment.__table__)
surveys_t = cast(Table, Survey.__table__)
values_t = cast(Table, CustomerValue.__table__)
c, e, i = customers_t.c, events_t.c, identities_t.c
EXPORT_COLUMNS = ("id", "name", "email", "phone", "stage", "pulse", "band", "created_at")
MAX_MEMBERS_PAGE = 1000


class Compiler:
    """Turn a parsed definition into a WHERE clause on `customers` for one dialect and moment."""

    def __init__(self, live: Live, dialect: str, now: datetime, conn: Connection | None = None):
        self.live, self.dialect, self.now, self.conn = live, dialect, now, conn
        self.law = model(live.pulse)
        self._bounds: bands.Bounds | None = None

    def bounds(self, names: list[str]) -> bands.Bounds:
        """The bands' edges now; thriving's (a query) only when a named band needs it."""
        if not bands.needs_top(names) or self.conn is None:
            return bands.edges(self.live, self.now)
        if self._bounds is None:
            self._bounds = bands.bounds(self.conn, self.live, self.now)
        return self._bounds

    def __call__(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, s.AllOf):
            return and_(*(self(child) for child in node.all_))
        if isinstance(node, s.AnyOf):
            return or_(*(self(child) for child in node.any_))
        if isinstance(node, s.NotOf):
            # NOT of an unknown (NULL) would be unknown too: a NOT is the exact complement
            return not_(func.coalesce(self(node.not_), false()))
        handlers: dict[type, Callable[[Any], ColumnElement[bool]]] = {
            s.FieldCondition: self.field,
            s.TraitCondition: self.trait,
            s.ConsentCondition: self.consent,
            s.IdentityCondition: self.identity,
            s.EventCondition: self.event,
        }
        return handlers[type(node)](node)

    # -- profile fields ----------------------------------------------------------------------
    def field(self, node: s.FieldCondition) -> ColumnElement[bool]:
        op, value = node.op, node.value
        if node.field == "stage":
            return self.stage(op, value)
        if node.field == "band":
            names = value if op == "in" else [value]
            edges = self.bounds(names)
            inside = or_(*(bands.band_sql(edges, name) for name in names))
            return not_(inside) if op == "ne" else inside
        if node.field == "pulse":
            return compare(c.pulse_key, op, self.law.key_threshold(float(value), self.now))
        if node.field in ("detractor", "lapsed", "at_risk"):
            flag = {
                "detractor": c.detractor.is_(True),
                "lapsed": overlays.lapsed(self.live, self.now),
                "at_risk": overlays.at_risk(self.live, self.now),
            }[node.field]
            wanted = bool(value) if op == "eq" else not value
            return flag if wanted else not_(flag)
        if node.field in ("created_at", "last_return_at"):
            column = c.created_at if node.field == "created_at" else c.last_return_at
            if op == "exists":
                return column.is_not(None) if value is not False else column.is_(None)
            return compare(column, op, self.moment(value))
        if node.field == "open_negatives":
            return compare(c.open_negatives, op, value)
        if node.field in ("clv", "p_alive"):
            return self.value(node.field, op, value)
        return self.name(op, value)

    def value(self, field: str, op: str, value: Any) -> ColumnElement[bool]:
        """Lifetime value from the last `fit clv` (`customer_values`): a customer without a
        stored value has none, so every comparison is false for them (`exists` tells)."""
        v = values_t.c
        column = v.clv if field == "clv" else v.p_alive
        if op == "exists":
            present = exists(select(literal(1)).where(v.customer_id == c.id))
            return present if value is not False else not_(present)
        return exists(select(literal(1)).where(v.customer_id == c.id,
                                               compare(column, op, float(value))))  # fmt: skip

    def stage(self, op: str, value: Any) -> ColumnElement[bool]:
        if op in ("eq", "ne", "in"):
            return compare(c.stage, op, value)
        order = self.live.journey.stage_names
        at = order.index(value)
        chosen = {
            "lt": order[:at],
            "lte": order[: at + 1],
            "gt": order[at + 1 :],
            "gte": order[at:],
        }[op]
        return c.stage.in_(chosen) if chosen else false()

    def moment(self, value: Any) -> datetime:
        if isinstance(value, dict):
            return self.now - timedelta(days=float(value["days_ago"]))
        return to_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))

    def name(self, op: str, value: Any) -> ColumnElement[bool]:
        if op == "exists":
            present = and_(c.name.is_not(None), c.name != "")
            return present if value is not False else not_(present)
        if op == "contains":
            return func.lower(c.name).contains(str(value).lower(), autoescape=True)
        if op == "ne":
            return not_(func.coalesce(c.name == value, false()))
        return compare(c.name, op, value)

    # -- JSON: traits and consent ------------------------------------------------------------
    def json_at(self, column: Any, path: list[str]) -> JSONPath:
        return JSONPath(column, path, self.dialect)

    def trait(self, node: s.TraitCondition) -> ColumnElement[bool]:
        at = self.json_at(c.traits, node.trait.split("."))
        op, value = node.op, node.value
        if op == "exists":
            return at.present() if value is not False else not_(at.present())
        if op == "eq":
            return at.equals(value)
        if op == "ne":
            return not_(func.coalesce(at.equals(value), false()))
        if op == "in":
            return or_(*(at.equals(v) for v in value))
        if op == "contains":
            return or_(at.text_contains(str(value)), at.array_contains(str(value)))
        if isinstance(value, str):
            return and_(at.is_string(), compare(at.text(), op, value))
        return and_(at.is_number(), compare(at.number(), op, value))

    def consent(self, node: s.ConsentCondition) -> ColumnElement[bool]:
        status = self.json_at(c.consent, [node.consent, "status"]).text()
        if node.status == "unknown":
            return func.coalesce(status, "").not_in(["granted", "denied"])
        return func.coalesce(status == node.status, false())

    # -- identities and events ---------------------------------------------------------------
    def identity(self, node: s.IdentityCondition) -> ColumnElement[bool]:
        kind = node.identity
        found = select(i.customer_id).where(i.kind == kind)
        if node.op == "exists":
            return c.id.in_(found) if node.value is not False else c.id.not_in(found)
        if node.op == "eq":
            return c.id.in_(found.where(i.value == normalise(kind, node.value)))
        suffix = str(node.value)
        suffix = suffix.lower() if kind in ("email", "social") else suffix
        return c.id.in_(found.where(i.value.endswith(suffix, autoescape=True)))

    def event(self, node: s.EventCondition) -> ColumnElement[bool]:
        spec = node.event
        wheres: list[ColumnElement[bool]] = []
        if (types := spec.types()) is not None:
            names = self.live.pulse.names_of(types)  # "purchase" is also "Order Completed"
            wheres.append(e.type == names[0] if len(names) == 1 else e.type.in_(names))
        if spec.within_days is not None:
            wheres.append(e.occurred_at >= self.now - timedelta(days=spec.within_days))
        if (channels := spec.channels()) is not None:
            wheres.append(
                e.channel == channels[0] if len(channels) == 1 else e.channel.in_(channels)
            )
        if (departments := spec.departments()) is not None:
            wheres.append(e.department.in_(departments))
        if spec.min_value is not None:
            wheres.append(e.value >= spec.min_value)
        matching = select(e.customer_id).where(*wheres)
        if spec.min_count == 0:
            # "at most max_count": everyone but those with more
            assert spec.max_count is not None
            more = matching.group_by(e.customer_id).having(func.count() > spec.max_count)
            return c.id.not_in(more)
        having: list[ColumnElement[bool]] = []
        if spec.min_count > 1:
            having.append(func.count() >= spec.min_count)
        if spec.max_count is not None:
            having.append(func.count() <= spec.max_count)
        if spec.min_total is not None:
            having.append(func.coalesce(func.sum(e.value), 0) >= spec.min_total)
        if having:
            matching = matching.group_by(e.customer_id).having(and_(*having))
        return c.id.in_(matching)


class JSONPath:
    """A value inside a JSON column, read the same way on SQLite (json_*) and PostgreSQL (jsonb)."""

    def __init__(self, column: Any, path: list[str], dialect: str) -> None:
        self.column, self.path, self.pg = column, path, dialect == "postgresql"
        self.sqlite_path = "$." + ".".join('"' + part.replace('"', "") + '"' for part in path)

    def node(self) -> Any:
        return func.jsonb_extract_path(self.column, *self.path)

    def type(self) -> Any:
        if self.pg:
            return func.jsonb_typeof(self.node())
        return func.json_type(self.column, self.sqlite_path)

    def text(self) -> Any:
        if self.pg:
            return func.jsonb_extract_path_text(self.column, *self.path)
        return func.json_extract(self.column, self.sqlite_path)

    def is_string(self) -> ColumnElement[bool]:
        return func.coalesce(self.type() == ("string" if self.pg else "text"), false())

    def is_number(self) -> ColumnElement[bool]:
        if self.pg:
            return func.coalesce(self.type() == "number", false())
        return func.coalesce(self.type().in_(["integer", "real"]), false())

    def number(self) -> Any:
        if self.pg:  # cast only numbers: a text that is not one would stop the query
            return case((self.type() == "number", sql_cast(self.text(), Float)), else_=None)
        return func.json_extract(self.column, self.sqlite_path)

    def present(self) -> ColumnElement[bool]:
        return func.coalesce(self.type().not_in(["null"]), false())

    def equals(self, value: s.Scalar) -> ColumnElement[bool]:
        if isinstance(value, bool):
            if self.pg:
                return and_(self.type() == "boolean", self.text() == str(value).lower())
            return func.coalesce(self.type() == str(value).lower(), false())
        if isinstance(value, str):
            return and_(self.is_string(), self.text() == value)
        return and_(self.is_number(), self.number() == value)

    def text_contains(self, value: str) -> ColumnElement[bool]:
        lowered = func.lower(self.text()).contains(value.lower(), autoescape=True)
        return and_(self.is_string(), func.coalesce(lowered, false()))

    def array_contains(self, value: str) -> ColumnElement[bool]:
        if self.pg:
            wanted = sql_cast(literal(orjson.dumps([value]).decode()), JSONB)
            return func.coalesce(self.node().op("@>")(wanted), false())
        items = func.json_each(self.column, self.sqlite_path).table_valued("value", "type")
        found = exists(select(literal(1)).select_from(items).where(items.c.value == value))
        return and_(self.type() == "array", found)


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "in":
        result: ColumnElement[bool] = column.in_(value)
        return result
    operators: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
    }
    return operators[op](column, value)


# -- evaluation ------------------------------------------------------------------------------


def condition(conn: Connection, live: Live, definition: Any, now: datetime) -> ColumnElement[bool]:
    """The definition as a WHERE clause on live customers (for surveys, rules and offers)."""
    parsed = s.parse(definition, live)
    compiled = Compiler(live, conn.dialect.name, now, conn)(parsed.root)
    return and_(c.merged_into_id.is_(None), compiled)


def count(conn: Connection, live: Live, definition: Any, now: datetime) -> int:
    """How many live customers match `definition` now."""
    query = select(func.count()).select_from(customers_t)
    return int(conn.execute(query.where(condition(conn, live, definition, now))).scalar_one())


def is_member(
    conn: Connection, live: Live, definition: Any, customer_id: int, now: datetime
) -> bool:
    """Whether one customer matches now (a rule's or an offer's check)."""
    query = select(c.id).where(c.id == customer_id, condition(conn, live, definition, now))
    return conn.execute(query).first() is not None


def _identity_of(kind: str) -> Any:
    return (
        select(func.min(i.value))
        .where(i.customer_id == c.id, i.kind == kind)
        .scalar_subquery()
        .label(kind)
    )


def _member_query(conn: Connection, live: Live, definition: Any, now: datetime) -> Any:
    columns = (
        c.id,
        c.name,
        _identity_of("email"),
        _identity_of("phone"),
        c.stage,
        c.pulse_key,
        c.created_at,
        c.last_return_at,
        c.open_negatives,
        c.detractor,
    )
    query = select(*columns).where(condition(conn, live, definition, now))
    return query.order_by(c.id)


def _member(row: Any, live: Live, now: datetime, edges: bands.Bounds) -> dict[str, Any]:
    pulse = model(live.pulse).pulse(row.pulse_key, now)
    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "stage": row.stage,
        "pulse": pulse,
        "band": bands.classify(
            edges,
            stage=row.stage,
            key=row.pulse_key,
            last_return_at=row.last_return_at,
            created_at=row.created_at,
            open_negatives=row.open_negatives,
            detractor=bool(row.detractor),
        ),
        "created_at": row.created_at,
    }


def members(
    conn: Connection,
    live: Live,
    definition: Any,
    now: datetime,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One page of the members, by customer id: id, name, email, phone, stage, pulse, band."""
    if not 1 <= limit <= MAX_MEMBERS_PAGE or offset < 0:
        raise Invalid(
            f"limit must be 1 to {MAX_MEMBERS_PAGE} and offset at least 0",
            errors=[{"field": "limit", "message": f"1 to {MAX_MEMBERS_PAGE}"}],
        )
    query = _member_query(conn, live, definition, now).limit(limit).offset(offset)
    edges = bands.bounds(conn, live, now)
    return [_member(row, live, now, edges) for row in conn.execute(query)]


def export_csv(
    engine: Engine, live: Live, definition: Any, now: datetime, *, chunk: int = 2000
) -> Iterator[bytes]:
    """Every member as CSV, streamed from one query on its own connection (server-side cursor
    on PostgreSQL), a few thousand rows at a time. Validation happens before the first byte."""
    s.parse(definition, live)  # raise before anything is sent
    return _csv_rows(engine, live, definition, now, chunk)


def _csv_rows(
    engine: Engine, live: Live, definition: Any, now: datetime, chunk: int
) -> Iterator[bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(EXPORT_COLUMNS)
    with engine.connect() as conn:
        edges = bands.bounds(conn, live, now)
        query = _member_query(conn, live, definition, now)
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
        for partition in result.partitions():
            for row in partition:
                m = _member(row, live, now, edges)
                out.writerow(
                    [
                        m["id"],
                        _safe(m["name"]),
                        m["email"] or "",
                        m["phone"] or "",
                        m["stage"],
                        f"{m['pulse']:.3f}",
                        m["band"],
                        m["created_at"].isoformat(),
                    ]
                )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _safe(value: str | None) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- saved segments --------------------------------------------------------------------------


def _check(name: Any, description: Any) -> tuple[str, str | None]:
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        errors.append({"field": "name", "message": "a name of 1 to 200 characters is required"})
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        errors.append({"field": "description", "message": "text of at most 2000 characters"})
    if errors:
        raise Invalid("; ".join(f"{x['field']}: {x['message']}" for x in errors), errors=errors)
    return str(name).strip(), (description or None)


def _out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "definition": row.definition,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _name_taken(conn: Connection, name: str, but: int | None = None) -> None:
    query = select(segments_t.c.id).where(func.lower(segments_t.c.name) == name.lower())
    if but is not None:
        query = query.where(segments_t.c.id != but)
    if conn.execute(query).first() is not None:
        raise Conflict(
            f"a segment named {name!r} already exists",
            errors=[{"field": "name", "message": "already taken"}],
        )


def create(
    conn: Connection,
    live: Live,
    *,
    name: Any,
    definition: Any,
    description: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Save a segment (names are unique, whatever their case); 409 Conflict when taken."""
    name, description = _check(name, description)
    stored = s.dump(s.parse(definition, live))
    moment = now or datetime.now(UTC)
    _name_taken(conn, name)
    values = {
        "name": name,
        "description": description,
        "definition": stored,
        "created_at": moment,
        "updated_at": moment,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(segments_t).values(**values)).inserted_primary_key
    except IntegrityError:
        raise Conflict(
            f"a segment named {name!r} already exists",
            errors=[{"field": "name", "message": "already taken"}],
        ) from None
    assert new_id is not None
    return get(conn, int(new_id[0]))


def get(conn: Connection, segment_id: int) -> dict[str, Any]:
    row = conn.execute(select(segments_t).where(segments_t.c.id == segment_id)).first()
    if row is None:
        raise NotFound(f"segment {segment_id} does not exist")
    return _out(row)


def find(conn: Connection, ref: str | int) -> dict[str, Any]:
    """A segment by id or by name (names first when a name is all digits)."""
    text = str(ref).strip()
    row = conn.execute(
        select(segments_t).where(func.lower(segments_t.c.name) == text.lower())
    ).first()
    if row is not None:
        return _out(row)
    if (number := parse_id(text)) is not None:
        return get(conn, number)
    raise NotFound(f"no segment has the name or id {text!r}")


def list_segments(
    conn: Connection, live: Live, now: datetime, *, counts: bool = True
) -> list[dict[str, Any]]:
    """Every saved segment by name, each with its live member count."""
    rows = conn.execute(select(segments_t).order_by(func.lower(segments_t.c.name), segments_t.c.id))
    found = [_out(row) for row in rows]
    for item in found:
        if counts:
            try:
                item["count"] = count(conn, live, item["definition"], now)
            except Invalid as exc:  # the configuration changed under a saved segment
                item["count"], item["error"] = None, exc.message
    return found


def update(
    conn: Connection,
    live: Live,
    segment_id: int,
    *,
    name: Any,
    definition: Any,
    description: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Replace a segment's name, description and definition."""
    get(conn, segment_id)
    name, description = _check(name, description)
    stored = s.dump(s.parse(definition, live))
    _name_taken(conn, name, but=segment_id)
    values = {
        "name": name,
        "description": description,
        "definition": stored,
        "updated_at": now or datetime.now(UTC),
    }
    try:
        with conn.begin_nested():
            conn.execute(
                sql_update(segments_t).where(segments_t.c.id == segment_id).values(**values)
            )
    except IntegrityError:
        raise Conflict(f"a segment named {name!r} already exists") from None
    return get(conn, segment_id)


def remove(conn: Connection, segment_id: int) -> None:
    """Delete a segment, unless a survey is sent to it (409 naming the surveys)."""
    users = conn.execute(
        select(surveys_t.c.name).where(surveys_t.c.segment_id == segment_id).order_by("name")
    ).scalars()
    names = ", ".join(repr(name) for name in users)
    if names:
        raise Conflict(
            f"segment {segment_id} is the audience of the survey(s) {names}: give them another"
            " segment (or none) first",
            errors=[{"field": "segment_id", "message": "in use by a survey"}],
        )
    if conn.execute(delete(segments_t).where(segments_t.c.id == segment_id)).rowcount == 0:
        raise NotFound(f"segment {segment_id} does not exist")
