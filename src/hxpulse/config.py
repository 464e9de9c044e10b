"""Settings: one class, read from arguments, `HXPULSE_*` environment variables and hxpulse.toml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hxpulse.analytics.pulse import purchase_weight
from hxpulse.events.names import STANDARD_NAMES
from hxpulse.offers.settings import OfferIn, check_offers
from hxpulse.rules.settings import DEFAULT_RULES, Rule, RuleBook, check_names, over_defaults

DEFAULT_DATABASE_URL = "sqlite:///hxpulse.db"
Component = Literal["investment", "return", "experience"]


class EventWeight(BaseModel):
    """How one event type moves the pulse."""

    component: Component
    weight: float = Field(allow_inf_nan=False)
    per_value: bool = Field(False, description="Weight grows with the event's value (purchases).")
    negative: bool = Field(False, description="Counts 12x until resolved (complaints).")
    resolves: bool = Field(False, description="Resolves a negative experience (resolutions).")


def _w(component: Component, weight: float, **flags: bool) -> EventWeight:
    return EventWeight(component=component, weight=weight, **flags)


DEFAULT_WEIGHTS: dict[str, EventWeight] = {
    # investments: what the brand puts into the relationship
    "personal_outreach": _w("investment", 3), "relevant_content": _w("investment", 1),
    "email_sent": _w("investment", 0.5), "exclusive_access": _w("investment", 4),
    "early_access": _w("investment", 4), "reward": _w("investment", 3),
    "incentive": _w("investment", 2), "referral_ask": _w("investment", 2),
    # returns: what the customer gives back (a refund takes back a purchase of the same value)
    "purchase": _w("return", 10, per_value=True), "refund": _w("return", -10, per_value=True),
    "add_to_cart": _w("return", 1), "checkout_started": _w("return", 2),
    "signup": _w("return", 2), "trial_start": _w("return", 3), "repeat_use": _w("return", 1),
    "app_open": _w("return", 1), "page_view": _w("return", 0.2), "page": _w("return", 0.2),
    "screen": _w("return", 0.2), "email_opened": _w("return", 0.5),
    "email_clicked": _w("return", 1),
    "store_visit": _w("return", 1), "content_share": _w("return", 4),
    "social_mention": _w("return", 2), "referral": _w("return", 8), "review": _w("return", 6),
    "referral_click": _w("return", 1),
    "survey_response": _w("return", 2),
    # next best offers: an offer shown is an investment, an accepted one a return
    "offer_shown": _w("investment", 1), "offer_accepted": _w("return", 5),
    "offer_declined": _w("experience", 0),
    # experiences: how it felt
    "complaint": _w("experience", -5, negative=True),
    "failed_delivery": _w("experience", -4, negative=True),
    "detractor": _w("experience", -4, negative=True), "passive": _w("experience", 0),
    "promoter": _w("experience", 4), "resolution": _w("experience", 2, resolves=True),
    "support_contact": _w("experience", 0), "unsubscribe": _w("experience", -2),
    "cancellation": _w("experience", -4),
}  # fmt: skip


class BandSettings(BaseModel):
    """`[pulse.bands]`: the bands' edges, in half-lives of the pulse and shares of the base
    (see `pulse.bands`): no fixed pulse value, so they fit any business's weights."""

    model_config = ConfigDict(extra="forbid")

    fall: float = Field(1.0, gt=0, le=100, allow_inf_nan=False,
                        description="Half-lives with no return: then at risk.")  # fmt: skip
    lapsed: float = Field(2.0, gt=0, le=100, allow_inf_nan=False,
                          description="Half-lives with no return: then lapsed.")  # fmt: skip
    thriving_share: float = Field(0.25, ge=0, le=1, allow_inf_nan=False,
                                  description="Share of healthy customers thriving.")  # fmt: skip
    customer_stage: str = Field("customer", min_length=1, max_length=40,
                                description="First stage read as a customer.")  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _not_thresholds(cls, value: object) -> object:
        if isinstance(value, dict) and {"thriving", "steady", "cooling"} & set(value):
            raise ValueError("the bands are no longer pulse thresholds: set fall, lapsed (in"
                             " half-lives), thriving_share and customer_stage"
                             " (docs/configuration.md)")  # fmt: skip
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.lapsed <= self.fall:
            raise ValueError(f"lapsed ({self.lapsed:g}) must be more half-lives than fall"
                             f" ({self.fall:g})")  # fmt: skip
        return self


class PulseSettings(BaseModel):
    """The `[pulse]` section of hxpulse.toml."""

    # from ~15 minutes up, the pulse keeps 1e-9 of relative precision for a century
    half_life_days: float = Field(90.0, ge=0.01, allow_inf_nan=False)
    negative_multiplier: float = Field(12.0, ge=1, allow_inf_nan=False)
    value_reference: float = Field(50.0, gt=0, description="Value at which a purchase counts 1.7x.")
    bands: BandSettings = Field(default_factory=lambda: BandSettings())
    weights: dict[str, EventWeight] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    standard_names: bool = Field(
        True, description="Read Segment's spec event names (Order Completed, …) as their types."
    )
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Other names of event types ('Bestellung' = 'purchase'); '' drops one.",
    )

    @field_validator("weights", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        """Entries in the config replace or add to the defaults; they do not drop them."""
        if isinstance(value, dict):
            return {**DEFAULT_WEIGHTS, **value}
        return value

    @model_validator(mode="after")
    def _check_aliases(self) -> Self:
        _alias_table(self.weights, self.standard_names, self.aliases)  # raises on a bad one
        return self

    @cached_property
    def alias_table(self) -> dict[str, str]:
        """Every other name of an event type, and the type it means."""
        return _alias_table(self.weights, self.standard_names, self.aliases)

    @cached_property
    def weight_by_name(self) -> dict[str, EventWeight]:
        """Every name an event can have, with its weight: one dict lookup per event ingested."""
        named = {n: self.weights[t] for n, t in self.alias_table.items() if t in self.weights}
        return {**self.weights, **named}

    @cached_property
    def purchase_names(self) -> frozenset[str]:
        """Every name an event counting as a purchase can have: one set lookup per event."""
        return frozenset(
            n for n in {"purchase", *self.alias_table} if self.canonical(n) == "purchase"
        )

    def canonical(self, name: str) -> str:
        """The event type an event called `name` counts as: itself, or what it is an alias of."""
        return self.alias_table.get(name, name)

    def names_of(self, types: Iterable[str]) -> list[str]:
        """`types` and every alias of them: the names stored events may have for these types."""
        wanted = set(types)
        return sorted(wanted | {n for n, t in self.alias_table.items() if t in wanted})

    def weight_of(self, event_type: str) -> EventWeight | None:
        """The weight of `event_type` (or of the type it is an alias of), or None when it is
        unmapped (and so counts zero)."""
        return self.weight_by_name.get(event_type)

    def weigh(self, event_type: str, value: float | None) -> tuple[EventWeight, float] | None:
        """(weight setting, weight) of one event, or None when it counts zero; a purchase's
        weight grows with its value."""
        mapped = self.weight_of(event_type)
        if mapped is None or mapped.weight == 0:
            return None
        if mapped.per_value:
            return mapped, purchase_weight(mapped.weight, value, self.value_reference)
        return mapped, mapped.weight


def _alias_table(
    weights: dict[str, EventWeight], standard: bool, aliases: dict[str, str]
) -> dict[str, str]:
    """One table of names: the standard ones (less those given a weight of their own), then
    `aliases` on top ('' drops one); a name given a weight cannot also be an alias."""
    table = {n: t for n, t in STANDARD_NAMES.items() if n not in weights} if standard else {}
    for name, target in aliases.items():
        if not target:
            table.pop(name, None)
        elif name in weights:
            raise ValueError(f"aliases: {name!r} has a weight of its own in [pulse.weights];"
                             " give it a weight or make it an alias, not both")  # fmt: skip
        else:
            table[name] = target
    for name, target in table.items():
        if target == name:
            raise ValueError(f"aliases: {name!r} is an alias of itself; map it to '' to read it"
                             " as it is")  # fmt: skip
        if target in table:
            raise ValueError(f"aliases: {name!r} = {target!r}, which is itself an alias; name"
                             " the event type it means")  # fmt: skip
    return table


class StageCondition(BaseModel):
    """At least `min_count` events of these types (within the last `within_days`, if set)."""

    events: list[str] = Field(min_length=1)
    min_count: int = Field(1, ge=1)
    within_days: float | None = Field(None, gt=0, allow_inf_nan=False)


class StageRule(BaseModel):
    """A journey stage: reached when every condition holds (and, if `satisfied`, when the
    customer has no unresolved negative experience and their last NPS answer is not a
    detractor's)."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    when: list[StageCondition] = Field(default_factory=list)
    satisfied: bool = False


def _stage(name: str, *when: StageCondition, satisfied: bool = False) -> StageRule:
    return StageRule(name=name, when=list(when), satisfied=satisfied)


def _cond(
    events: list[str], min_count: int = 1, within_days: float | None = None
) -> StageCondition:
    return StageCondition(events=events, min_count=min_count, within_days=within_days)


ADVOCACY = ["referral", "review", "content_share"]
DEFAULT_STAGES: list[StageRule] = [
    _stage("prospect"),
    _stage("lead", _cond(["identify", "signup", "subscribe", "lead_form", "newsletter_signup"])),
    _stage("qualified_lead",
           _cond(["add_to_cart", "checkout_started", "demo_request", "trial_start",
                  "quote_request"])),
    _stage("customer", _cond(["purchase"])),
    _stage("repeat_customer", _cond(["purchase"], 2), satisfied=True),
    _stage("advocate", _cond(["purchase"]), _cond(ADVOCACY, 2, 180)),
]  # fmt: skip


class JourneySettings(BaseModel):
    """The `[journey]` section of hxpulse.toml: stages lowest first, and the overlays."""

    stages: list[StageRule] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=1)
    nps_events: list[str] = Field(default_factory=lambda: ["detractor", "passive", "promoter"])
    detractor_events: list[str] = Field(default_factory=lambda: ["detractor"])

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, value: list[StageRule]) -> list[StageRule]:
        names = [rule.name for rule in value]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        if value[0].when:
            raise ValueError(
                f"the first stage ({names[0]}) is where everyone starts: no conditions"
            )
        return value

    @property
    def stage_names(self) -> list[str]:
        return [rule.name for rule in self.stages]


class SurveySettings(BaseModel):
    """The `[surveys]` section: the fatigue guard and how long an invitation is valid."""

    brand: str = Field(
        "our company",
        min_length=1,
        max_length=100,
        description="The brand's name, as the survey questions say it.",
    )
    per_survey_days: int = Field(30, ge=0, description="At most one invitation per survey.")
    any_survey_days: int = Field(7, ge=0, description="At most one invitation of any survey.")
    link_days: int = Field(14, ge=1, description="How long an invitation link stays valid.")
    negative_sentiment: float = Field(
        -0.5, ge=-1, le=0, description="Answers at or below it are flagged."
    )
    text_min_answers: int = Field(
        200, ge=20, description="Answers with a why before `hxpulse fit text` fits a model."
    )
    text_min_each: int = Field(
        40, ge=5, description="Of them, at least this many negative and as many not."
    )
    definitions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Surveys defined in the file ([[surveys.definitions]]), kept in the database.",
    )


class SmtpSettings(BaseModel):
    """The `[smtp]` section: where invitation emails are sent from."""

    host: str | None = Field(None, description="SMTP server; none: invitations are links only.")
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "HX Pulse <surveys@localhost>"
    timeout: float = Field(10.0, gt=0)


class PrivacySettings(BaseModel):
    """The `[privacy]` section: the preference centre's links and erasure requests."""

    link_days: int = Field(
        90, ge=1, le=3650, description="How long a preference-centre link in an email works."
    )
    erasure_days: int = Field(
        30, ge=1, le=365, description="Within how many days an asked-for erasure is due."
    )


class SlaTarget(BaseModel):
    """Targets of one priority, in business minutes of the case's team."""

    first_response_minutes: float = Field(gt=0, allow_inf_nan=False)
    resolution_minutes: float = Field(gt=0, allow_inf_nan=False)


class ChannelTarget(BaseModel):
    """A channel's own targets, instead of the priority's (None: the priority's)."""

    first_response_minutes: float | None = Field(None, gt=0, allow_inf_nan=False)
    resolution_minutes: float | None = Field(None, gt=0, allow_inf_nan=False)


def _t(first: float, resolution: float) -> SlaTarget:
    return SlaTarget(first_response_minutes=first, resolution_minutes=resolution)


DEFAULT_SLA = {"urgent": _t(30, 240), "high": _t(60, 480), "normal": _t(240, 1440),
               "low": _t(480, 2880)}  # fmt: skip
CASE_PRIORITIES = ("urgent", "high", "normal", "low")


class CaseSettings(BaseModel):
    """The `[cases]` section: SLA targets per priority and channel, assignment, CSAT."""

    targets: dict[str, SlaTarget] = Field(
        default_factory=lambda: dict(DEFAULT_SLA),
        description="Per priority (urgent, high, normal, low): first response and resolution.",
    )
    channels: dict[str, ChannelTarget] = Field(
        default_factory=lambda: {"social": ChannelTarget(first_response_minutes=5)},
        description="Per channel, targets that replace the priority's (social: 5 minutes).",
    )
    default_priority: Literal["urgent", "high", "normal", "low"] = "normal"
    default_team: str | None = Field(None, description="The team a case without one goes to.")
    round_robin: bool = Field(True, description="Give a new case to the team's next agent.")
    resolve_survey: str | None = Field(
        None, description="The survey (key or name) a resolved case's customer is invited to."
    )

    @field_validator("targets", mode="before")
    @classmethod
    def _over_default_targets(cls, value: object) -> object:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(CASE_PRIORITIES))
            if unknown:
                raise ValueError(f"unknown priority {unknown[0]!r}: use {CASE_PRIORITIES}")
            return {**DEFAULT_SLA, **value}
        return value


class OutboxSettings(BaseModel):
    """The `[outbox]` section: how the dispatcher delivers the outbox."""

    in_process: bool = Field(
        True, description="`serve` runs a dispatcher itself (off: run `hxpulse worker`s)."
    )
    max_age_hours: float = Field(
        72.0, gt=0, allow_inf_nan=False, description="Retry this long, then a dead letter."
    )
    retry_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0],
        min_length=1,
        description="The ceiling of each retry's delay (full jitter); the last one repeats.",
    )
    poll_seconds: float = Field(
        0.05, gt=0, le=60, allow_inf_nan=False, description="How often an idle dispatcher looks."
    )
    lease_seconds: float = Field(
        60.0, gt=0, allow_inf_nan=False, description="A claimed row is another's after this."
    )
    concurrency: int = Field(8, ge=1, le=256, description="Deliveries under way at once.")


class WebhookSettings(BaseModel):
    """The `[webhooks]` section: where webhooks may go and how long a try waits."""

    allow_private_networks: bool = Field(
        False, description="Allow receivers on private and loopback addresses."
    )
    timeout_seconds: float = Field(
        10.0, gt=0, le=300, allow_inf_nan=False, description="How long one try waits."
    )
    rotation_hours: float = Field(
        24.0, ge=0, allow_inf_nan=False, description="How long a rotated secret stays valid."
    )


class FeedSettings(BaseModel):
    """The `[feeds]` section: the live feeds (Server-Sent Events) and their tokens."""

    token_minutes: int = Field(
        15, ge=1, le=1440, description="How long a customer's live-feed token works."
    )
    poll_ms: int = Field(
        150, ge=10, le=5000, description="How often a feed stream looks for new messages."
    )
    ping_seconds: int = Field(15, ge=1, le=300, description="Keep-alive comments on a stream.")
    stream_seconds: float = Field(
        900.0,
        gt=0,
        allow_inf_nan=False,
        description="A stream ends after this long; the browser reconnects with Last-Event-ID.",
    )
    batch: int = Field(100, ge=1, le=1000, description="Messages read per poll at most.")


class AdvocacySettings(BaseModel):
    """The `[advocacy]` section: where a referral link lands, and its cookie."""

    landing_url: str = Field(
        "http://127.0.0.1:8000/",
        max_length=2000,
        description="Where `/r/{code}` sends the visitor (an http or https URL).",
    )
    cookie_days: int = Field(30, ge=1, le=400, description="How long the referral cookie lasts.")

    @field_validator("landing_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"landing_url {value[:80]!r} is not an http(s) URL with a host")
        return value


@dataclass(frozen=True, slots=True)
class Live:
    """What every event updates in its own transaction: the pulse, the journey stage, and the
    rules it triggers."""

    pulse: PulseSettings = field(default_factory=PulseSettings)
    journey: JourneySettings = field(default_factory=JourneySettings)
    rules: RuleBook = field(default_factory=RuleBook)


def normalise_database_url(url: str) -> str:
    """Return `url` with the driver HX Pulse uses (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ValueError(
        f"Database URL {url!r} is not supported: use sqlite:///FILE or postgresql://USER@HOST/DB."
    )


class Settings(BaseSettings):
    """Everything HX Pulse can be told; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="HXPULSE_", toml_file="hxpulse.toml", extra="ignore"
    )
    _live: tuple[Any, ...] | None = PrivateAttr(default=None)

    database_url: str = DEFAULT_DATABASE_URL
    environment: Literal["development", "production", "test"] = "development"
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "FULL"
    max_batch_bytes: int = 500 * 1024
    max_message_bytes: int = 32 * 1024
    pulse: PulseSettings = Field(default_factory=PulseSettings)
    journey: JourneySettings = Field(default_factory=JourneySettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    rules: list[Rule] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        description="[[rules]]: trigger → conditions → actions (added to the default rules).",
    )
    rules_max_age_hours: float = Field(
        72.0,
        gt=0,
        allow_inf_nan=False,
        description="An event older than this when it arrives triggers no rule (imports).",
    )
    offers: list[OfferIn] = Field(
        default_factory=list, description="[[offers]]: the offer catalogue (loaded at start)."
    )
    offers_holdout: float = Field(
        0.10,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="Share of customers kept out of model-ranked offers (to measure uplift).",
    )
    offers_shown: int = Field(3, ge=1, le=20, description="Offers served per request.")
    offers_ignored_after_hours: float = Field(
        72.0,
        gt=0,
        allow_inf_nan=False,
        description="An offer shown and not answered this long counts as ignored.",
    )
    offers_segment: Literal["band", "stage"] = Field(
        "band", description="What the bandit learns per: the customer's band or stage."
    )
    cases: CaseSettings = Field(default_factory=CaseSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    advocacy: AdvocacySettings = Field(default_factory=AdvocacySettings)
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Where customers reach this server (survey links)."
    )
    session_idle_minutes: int = Field(
        480, ge=1, description="A session unused this long ends (sign in again)."
    )
    session_days: float = Field(
        14.0, gt=0, allow_inf_nan=False, description="A session ends this long after sign-in."
    )
    signin_account_failures: int = Field(
        10, ge=1, description="Failed sign-ins per account within the window before a lock."
    )
    signin_address_failures: int = Field(
        50, ge=1, description="Failed sign-ins per client address within the window."
    )
    signin_window_minutes: int = Field(
        15, ge=1, description="The window failed sign-ins are counted over (and the lock)."
    )
    track_requests_per_second: float = Field(
        1000.0, ge=0, allow_inf_nan=False, description="Tracking requests per key and per address."
    )
    track_burst: int = Field(2000, ge=1, description="Tracking requests allowed at once.")
    survey_posts_per_minute: int = Field(
        30, ge=0, description="Public survey answers per client address (0: no limit)."
    )

    @model_validator(mode="after")
    def _timeout_within_lease(self) -> Self:
        if self.webhooks.timeout_seconds >= self.outbox.lease_seconds:
            raise ValueError(
                f"webhooks.timeout_seconds ({self.webhooks.timeout_seconds}) must be shorter"
                f" than outbox.lease_seconds ({self.outbox.lease_seconds})"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_over_defaults(cls, value: object) -> object:
        return over_defaults(value)

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        problems = check_names(self.rules, stages=self.journey.stage_names)
        if self.pulse.bands.customer_stage not in self.journey.stage_names:
            problems.append(f"pulse.bands.customer_stage: {self.pulse.bands.customer_stage!r} is"
                            f" not a stage ({', '.join(self.journey.stage_names)})")  # fmt: skip
        for index, rule in enumerate(self.rules):
            for number, action in enumerate(rule.actions):
                invest = action.record_investment
                weight = None if invest is None else self.pulse.weight_of(invest.type)
                if invest is not None and (weight is None or weight.component != "investment"):
                    problems.append(
                        f"rules[{index}].actions[{number}].record_investment.type:"
                        f" {invest.type!r} is not an investment in [pulse.weights]"
                    )
        problems += check_offers(self.offers, stages=self.journey.stage_names)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("secret_key must be at least 32 characters long")
        return value

    @property
    def live(self) -> Live:
        """The live steps' settings: the same object while `pulse`, `journey` and `rules` are
        (the steps keep what they compile from it per object: one compile, not one a batch)."""
        kept = self._live
        if (kept is not None and kept[0] is self.pulse and kept[1] is self.journey
                and kept[2] is self.rules and kept[3] == self.rules_max_age_hours):  # fmt: skip
            return cast(Live, kept[4])
        book = RuleBook(tuple(self.rules), timedelta(hours=self.rules_max_age_hours))
        made = Live(self.pulse, self.journey, book)
        self._live = (self.pulse, self.journey, self.rules, self.rules_max_age_hours, made)
        return made

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return Path(path) if path and path != ":memory:" else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
