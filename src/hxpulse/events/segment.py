"""The Segment HTTP Tracking API message shape and how it becomes an HX Pulse event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from hxpulse.customers.identity import normalise
from hxpulse.errors import Invalid
from hxpulse.events.models import CHANNELS
from hxpulse.events.moments import Moment, OutOfRange, UtcMoment, in_range
from hxpulse.events.schemas import EventIn, IdentityKey, amount_problem, stable_message_id

Kind = Literal["track", "identify", "alias", "page", "screen", "group"]
Id = str | int
_APP_LIBRARIES = ("ios", "android", "react-native", "flutter", "swift", "kotlin", "xamarin")
_WEB_LIBRARIES = ("analytics.js", "analytics-next", "@segment/analytics", "rudder-sdk-js")


class SegmentMessage(BaseModel):
    """One call of the Segment spec; unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow")

    type: Kind | None = None
    messageId: str | None = Field(None, min_length=1, max_length=200)  # noqa: N815
    userId: Id | None = None  # noqa: N815
    anonymousId: Id | None = None  # noqa: N815
    previousId: Id | None = None  # noqa: N815
    groupId: Id | None = None  # noqa: N815
    event: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=200)
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    timestamp: Moment | None = None
    # clock readings of the sender: only their difference counts, so any moment UTC can hold
    originalTimestamp: UtcMoment | None = None  # noqa: N815
    sentAt: UtcMoment | None = None  # noqa: N815
    channel: str | None = None


class SegmentBatch(BaseModel):
    """The envelope of `POST /v1/batch` (at most `max_batch_bytes`, each message at most
    `max_message_bytes`). It describes the body; the route reads `batch`, `sentAt` and
    `writeKey` itself and checks each message on its own, so a batch with some bad messages
    stores the good ones and lists the others in `rejected`."""

    model_config = ConfigDict(extra="allow")

    batch: list[SegmentMessage] = Field(
        min_length=1, description="The calls; each needs its `type` (track, identify, …)."
    )
    sentAt: UtcMoment | None = Field(  # noqa: N815
        None,
        description="When the sender sent the batch, by its clock: corrects each message's"
        " `originalTimestamp` (a message's own `sentAt` wins).",
    )
    writeKey: str | None = Field(  # noqa: N815
        None, description="The write key, when it is not sent as the HTTP Basic user."
    )
    context: dict[str, Any] | None = Field(
        None, description="Accepted and not used: each message's own `context` counts."
    )
    integrations: dict[str, Any] | None = Field(None, description="Accepted and not used.")


def to_event(
    msg: SegmentMessage, *, kind: str, received_at: datetime, sent_at: datetime | None
) -> EventIn:
    """Return the HX Pulse event for one Segment message, or raise Invalid naming the field."""
    properties = dict(msg.properties or {})
    context = msg.context or {}
    identities = _identities(msg, kind, context)
    if kind == "track" and not msg.event:
        raise Invalid("event: a track call needs the event name")
    traits = _traits(msg, kind, context)
    if kind == "identify":
        properties = dict(_identify_traits(msg, context))
    elif kind == "group":
        if msg.groupId is None:
            raise Invalid("groupId: a group call needs groupId")
        properties = {"group_id": str(msg.groupId), "traits": msg.traits or {}}
    elif kind == "alias":
        properties = {"previous_id": str(msg.previousId)}
    message_id = msg.messageId or stable_message_id(
        "seg", msg.model_dump(mode="json", exclude={"sentAt"}, exclude_none=True)
    )
    return EventIn(
        message_id=message_id,
        kind=kind,
        type=msg.event if kind == "track" and msg.event else kind,
        occurred_at=_occurred_at(msg, received_at, sent_at),
        identities=identities,
        channel=_channel(msg, kind, properties, context),
        source="segment",
        name=msg.name,
        department=_text(properties.get("department") or context.get("department"), 100),
        value=_value(properties),
        currency=_currency(properties.get("currency")),
        properties=properties,
        context=context or None,
        traits=traits,
    )


def _identities(msg: SegmentMessage, kind: str, context: dict[str, Any]) -> list[IdentityKey]:
    keys: list[IdentityKey] = []
    if kind == "alias":
        if msg.previousId is None or msg.userId is None:
            raise Invalid("previousId, userId: an alias call needs both")
        keys.append(("previous_id", _plain("previousId", msg.previousId)))
    if _given(msg.userId):  # RudderStack's JavaScript SDK sends "" before identify
        keys.append(("user_id", _plain("userId", msg.userId)))
    if _given(msg.anonymousId):
        keys.append(("anonymous_id", _checked("anonymousId", "anonymous_id", msg.anonymousId)))
    if not keys:
        raise Invalid("userId, anonymousId: every call needs userId or anonymousId")
    for source in (msg.traits if kind == "identify" else None, context.get("traits")):
        if isinstance(source, dict):
            for field, ident in (("email", "email"), ("phone", "phone")):
                if source.get(field):
                    keys.append((ident, _checked(f"traits.{field}", ident, source[field])))
    external = context.get("externalIds")
    for n, item in enumerate(external if isinstance(external, list) else []):
        if isinstance(item, dict) and item.get("id") and item.get("type"):
            where = f"context.externalIds[{n}]"
            kind = _checked(f"{where}.type", "external_id", item["type"])
            ident = _checked(f"{where}.id", "external_id", item["id"])
            keys.append(("external_id", _checked(where, "external_id", f"{kind}:{ident}")))
    return list(dict.fromkeys(keys))


def _given(value: Id | None) -> TypeGuard[Id]:
    return value is not None and value != ""


def _plain(field: str, value: Id) -> str:
    return _checked(field, "user_id", value)


def _checked(field: str, kind: str, value: object) -> str:
    try:
        return normalise(kind, value)
    except Invalid as exc:
        raise Invalid(f"{field}: {exc.message}") from None


def _traits(msg: SegmentMessage, kind: str, context: dict[str, Any]) -> dict[str, Any] | None:
    traits = dict(_identify_traits(msg, context)) if kind == "identify" else {}
    consent = context.get("consent")
    if isinstance(consent, dict) and isinstance(consent.get("categoryPreferences"), dict):
        traits.setdefault("consent", consent["categoryPreferences"])
    return traits or None


def _identify_traits(msg: SegmentMessage, context: dict[str, Any]) -> dict[str, Any]:
    """An identify call's traits: Segment sends them as `traits`, RudderStack's JavaScript SDK
    as `context.traits`."""
    if msg.traits is not None:
        return msg.traits
    found = context.get("traits")
    return found if isinstance(found, dict) else {}


def _occurred_at(msg: SegmentMessage, received: datetime, batch_sent: datetime | None) -> datetime:
    """`timestamp`; else `originalTimestamp` corrected for the sender's clock by `sentAt`
    (received − (sentAt − originalTimestamp)); else the moment of receipt."""
    original, sent = msg.originalTimestamp, msg.sentAt or batch_sent
    if msg.timestamp is not None or original is None:
        return msg.timestamp or received
    if sent is None:
        return _accepted("originalTimestamp", original, received)
    try:
        corrected = received - (sent - original)
    except OverflowError:  # far apart: the result is outside what a datetime holds
        corrected = None
    if corrected is None or not _accepted_or_none(corrected, received):
        raise Invalid(
            f"originalTimestamp, sentAt: {_iso(original)} sent at {_iso(sent)} and received at "
            f"{_iso(received)} puts the event at "
            f"{_iso(corrected) if corrected else 'a date no calendar holds'}, outside the moments "
            "accepted (1970-01-01T00:00:00Z to a day after receipt)"
        )
    return corrected


def _accepted(field: str, moment: datetime, received: datetime) -> datetime:
    try:
        return in_range(moment, received)
    except OutOfRange as exc:
        raise Invalid(f"{field}: {exc}") from None


def _accepted_or_none(moment: datetime, received: datetime) -> bool:
    try:
        in_range(moment, received)
    except OutOfRange:
        return False
    return True


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _channel(
    msg: SegmentMessage, kind: str, properties: dict[str, Any], context: dict[str, Any]
) -> str:
    for candidate in (properties.get("channel"), context.get("channel"), msg.channel):
        if isinstance(candidate, str) and candidate.lower() in CHANNELS:
            return candidate.lower()
    if kind == "page":
        return "web"
    if kind == "screen":
        return "app"
    library = context.get("library")
    name = str(library.get("name", "")).lower() if isinstance(library, dict) else ""
    if any(part in name for part in _APP_LIBRARIES):
        return "app"
    if any(part in name for part in _WEB_LIBRARIES):
        return "web"
    return "other"


def _value(properties: dict[str, Any]) -> float | None:
    """The first number among revenue, total and value (Segment's spec: `revenue` is what the
    order earns, without shipping and tax; `total` the whole order; `value` an abstract worth of
    events without revenue); any of them beyond the amount cap refuses the message."""
    found: float | None = None
    for key in ("revenue", "total", "value"):
        raw = properties.get(key)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            problem = amount_problem(float(raw))
            if problem is not None:
                raise Invalid(f"properties.{key}: {problem}")
            found = float(raw) if found is None else found
    return found


def _currency(raw: object) -> str | None:
    if isinstance(raw, str) and len(raw) == 3 and raw.isalpha():
        return raw.upper()
    return None


def _text(raw: object, limit: int) -> str | None:
    return raw[:limit] if isinstance(raw, str) and raw else None
