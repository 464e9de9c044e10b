"""Event input and output shapes: the internal record, the product's own JSON API, the answer of
every tracking call, and the settings documents the browser SDKs load."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from hxpulse.customers.identity import normalise
from hxpulse.errors import Invalid
from hxpulse.events.moments import Moment, to_utc

Channel = Literal["web", "app", "email", "social", "phone", "chat", "store", "other"]
IdentityKey = tuple[str, str]
MAX_AMOUNT = 1e12  # the largest absolute value (revenue, total, value) an event may carry


def amount_problem(value: float) -> str | None:
    """Why `value` cannot be an event's amount (not finite, or beyond ±MAX_AMOUNT), or None."""
    if not math.isfinite(value):
        return "must be a finite number"
    if abs(value) > MAX_AMOUNT:
        return f"{value:g} is beyond the largest amount accepted, ±{MAX_AMOUNT:g}"
    return None


def _amount(value: float) -> float:
    problem = amount_problem(value)
    if problem is not None:
        raise PydanticCustomError("amount", problem)
    return value


Amount = Annotated[float, AfterValidator(_amount)]
"""An event's value: finite and at most MAX_AMOUNT either way."""


@dataclass(slots=True)
class EventIn:
    """One validated touchpoint, ready to store: identities are already normalised."""

    message_id: str
    kind: str
    type: str
    occurred_at: datetime
    identities: list[IdentityKey]
    channel: str = "other"
    source: str = "api"
    name: str | None = None
    department: str | None = None
    value: Amount | None = None
    currency: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None


@dataclass(slots=True)
class IngestResult:
    """What a batch did: how many were new, already stored, or refused."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    customers_created: int = 0
    merges: int = 0
    erased: int = 0  # dropped: they name an erased customer's identity (privacy.tombstones)
    new_message_ids: set[str] = field(default_factory=set)
    erased_message_ids: set[str] = field(default_factory=set)


def stable_message_id(prefix: str, payload: dict[str, Any]) -> str:
    """Return an id that is the same for the same content, so a resend adds nothing."""
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{prefix}-{digest[:40]}"


def as_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a moment without a zone is taken to be UTC (raises
    `moments.OutOfRange` for offsets that take it past what UTC can hold)."""
    return to_utc(moment)


class EventCreate(BaseModel):
    """One touchpoint in the product's own shape (`POST /api/events`, JSONL import)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1, max_length=200, description="What happened: `purchase`.")
    occurred_at: Moment = Field(
        description="When it happened (ISO 8601; no zone means UTC), from 1970 to a day ahead."
    )
    message_id: str | None = Field(None, min_length=1, max_length=200)
    user_id: str | None = Field(None, max_length=320)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    anonymous_id: str | None = Field(None, max_length=320)
    social: str | None = Field(None, max_length=320)
    external_id: str | None = Field(None, max_length=320)
    channel: Channel = "other"
    department: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    value: Amount | None = None
    currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$")
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] | None = None

    def identity_keys(self) -> list[IdentityKey]:
        """Return the normalised identities this event names (raises Invalid on a bad one)."""
        keys: list[IdentityKey] = []
        for kind in ("user_id", "email", "phone", "anonymous_id", "social", "external_id"):
            raw = getattr(self, kind)
            if raw:
                keys.append((kind, normalise(kind, raw)))
        return keys

    def to_event(self, *, source: str, id_prefix: str = "evt") -> EventIn:
        """Return the internal record; without a message id, one derived from the content."""
        keys = self.identity_keys()
        if not keys:
            raise Invalid(
                "event names no identity: give one of user_id, email, phone, anonymous_id"
            )
        message_id = self.message_id or stable_message_id(
            id_prefix, self.model_dump(mode="json", exclude_none=True)
        )
        return EventIn(
            message_id=message_id,
            kind="track",
            type=self.type,
            occurred_at=as_utc(self.occurred_at),
            identities=keys,
            channel=self.channel,
            source=source,
            name=self.name,
            department=self.department,
            value=self.value,
            currency=self.currency.upper() if self.currency else None,
            properties=self.properties,
            traits=self.traits,
        )


class EventBatch(BaseModel):
    """A batch for `POST /api/events` (at most `max_batch_bytes`, each event at most
    `max_message_bytes`). Each event is checked on its own: the good ones are stored, the bad
    ones listed in `rejected` by their index; only a batch with no good event is refused."""

    events: list[EventCreate] = Field(min_length=1)


class EventRead(BaseModel):
    """One stored touchpoint."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str = Field(description="The sender's id, or one derived from the content.")
    kind: str = Field(description="The call: track, identify, alias, page, screen or group.")
    type: str = Field(description="What happened: the event name of a track call, else the kind.")
    name: str | None
    channel: str
    department: str | None
    occurred_at: datetime
    received_at: datetime
    value: float | None
    currency: str | None = Field(description="ISO 4217, upper case.")
    source: str = Field(description="How it came in: segment, api, import, survey, demo, …")
    properties: dict[str, Any]


class Rejected(BaseModel):
    """A message of the request that was not stored, and why."""

    index: int = Field(description="Its position in the batch (0 for a single call).")
    message: str


class TrackResult(BaseModel):
    """What a tracking call or batch did; a 200 means the stored events are committed."""

    success: bool = Field(description="Always true: a request with no good message is a 400.")
    received: int = Field(description="Messages in the request.")
    stored: int = Field(description="New events stored.")
    duplicates: int = Field(description="Messages whose message id was stored already.")
    erased: int = Field(description="Dropped: they name an erased customer's identity.")
    rejected: list[Rejected] = Field(description="The messages refused, each with its reason.")


# --------------------------------------------------------------------------------------------
# The settings documents the browser SDKs load at start (events/browser.py)


class SegmentIoSettings(BaseModel):
    """analytics.js's Segment.io destination: where it sends the calls."""

    apiKey: str = Field(description="The write key the document was asked for.")  # noqa: N815
    apiHost: str = Field(description="This server's host and `/v1`, without the scheme.")  # noqa: N815
    protocol: str = Field(description="`http` or `https`, as this server is reached.")
    addBundledMetadata: bool  # noqa: N815
    unbundledIntegrations: list[str]  # noqa: N815
    maybeBundledConfigIds: dict[str, Any]  # noqa: N815


class SegmentIntegrations(BaseModel):
    """The destinations analytics.js loads: only Segment.io, pointing at this server."""

    model_config = ConfigDict(populate_by_name=True)

    segment_io: SegmentIoSettings = Field(alias="Segment.io")


class SegmentMetrics(BaseModel):
    sampleRate: int = Field(description="Always 0: no performance metrics are sent.")  # noqa: N815


class SegmentSettings(BaseModel):
    """The settings document of `GET /v1/projects/{write_key}/settings` (analytics.js)."""

    integrations: SegmentIntegrations
    plan: dict[str, Any]
    enabledMiddleware: dict[str, Any]  # noqa: N815
    remotePlugins: list[dict[str, Any]]  # noqa: N815
    legacyVideoPluginsEnabled: bool  # noqa: N815
    metrics: SegmentMetrics


class Switch(BaseModel):
    enabled: bool


class StatsCollection(BaseModel):
    errors: Switch = Field(description="Error reporting: off.")
    metrics: Switch = Field(description="Metrics reporting: off.")


class SourceSettings(BaseModel):
    statsCollection: StatsCollection  # noqa: N815


class RudderSource(BaseModel):
    """The source RudderStack's JavaScript SDK sends for: no device-mode destinations."""

    id: str
    name: str
    writeKey: str = Field(description="The write key the configuration was asked for.")  # noqa: N815
    workspaceId: str  # noqa: N815
    enabled: bool
    destinations: list[dict[str, Any]]
    config: SourceSettings


class RudderSourceConfig(BaseModel):
    """The source configuration of `GET /sourceConfig` (RudderStack's JavaScript SDK)."""

    isHosted: bool  # noqa: N815
    source: RudderSource
