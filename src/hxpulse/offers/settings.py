"""An offer as hxpulse.toml's `[[offers]]` and the API give it: checked with the field at fault.

Plain pydantic models (no database), so `config.Settings` can check `[[offers]]` when the
settings load, and `/api/offers` the same shape (`offers.0.eligibility.bands: …`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from hxpulse.analytics.pulse import BANDS

OfferKind = Literal["product", "content", "incentive", "access"]
KEY = r"^[a-z0-9][a-z0-9_.-]{0,79}$"
ACCEPTED, DECLINED, SHOWN = "offer_accepted", "offer_declined", "offer_shown"
RESPONSES = {ACCEPTED: "accepted", DECLINED: "declined"}  # event type -> exposure response


class Eligibility(BaseModel):
    """Who may see an offer: every list given must hold (an empty list: anyone)."""

    model_config = ConfigDict(extra="forbid")

    stages: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Journey stages that may see it (empty: any).",
    )
    bands: list[str] = Field(
        default_factory=list, max_length=6, description="Pulse bands that may see it (empty: any)."
    )
    consent: bool = Field(True, description="Only customers who allow personalisation.")
    departments: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Only customers with an event in one of them.",
    )
    exclude_bought: bool = Field(True, description="Not to customers who bought its item.")

    @field_validator("bands")
    @classmethod
    def _known_bands(cls, value: list[str]) -> list[str]:
        named = [b.strip().lower().replace("_", "-") for b in value]
        unknown = [b for b in named if b not in BANDS]
        if unknown:
            raise ValueError(f"unknown band {unknown[0]!r} (bands: {', '.join(BANDS)})")
        return named


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: OfferKind = Field(description="product, content, incentive or access (exclusive).")
    description: str = Field("", max_length=2000)
    item: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="What purchases and views name (product_id, sku).",
    )
    eligibility: Eligibility = Field(default_factory=Eligibility)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    cost: float = Field(
        0.0,
        ge=0,
        le=1e9,
        allow_inf_nan=False,
        description="What one acceptance costs the business.",
    )
    value: float = Field(
        0.0,
        ge=0,
        le=1e9,
        allow_inf_nan=False,
        description="Revenue of one acceptance (when the event names none).",
    )
    active: bool = True


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
NOT_NULL = ("name", "kind", "description", "eligibility", "cost", "value", "active")


def _check_window(valid_from: datetime | None, valid_until: datetime | None) -> None:
    for name, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
        if moment is not None and not EARLIEST <= moment < LATEST:
            raise ValueError(f"{name} must be from 1970 to 2199")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")


class OfferIn(_Fields):
    """One offer of the catalogue."""

    key: str = Field(pattern=KEY, description="Its stable name: a-z, 0-9, _ . - (80 at most).")

    @model_validator(mode="after")
    def _window(self) -> Self:
        _check_window(self.valid_from, self.valid_until)
        return self


class OfferUpdate(BaseModel):
    """A change to an offer: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: OfferKind | None = None
    description: str | None = Field(None, max_length=2000)
    item: str | None = Field(None, min_length=1, max_length=200)
    eligibility: Eligibility | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    cost: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)
    value: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)
    active: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, value: object) -> object:
        if isinstance(value, dict):
            for name in NOT_NULL:
                if name in value and value[name] is None:
                    raise ValueError(f"{name} cannot be null (leave it out to keep it)")
        return value

    @model_validator(mode="after")
    def _window(self) -> Self:
        _check_window(self.valid_from, self.valid_until)
        return self


def check_offers(offers: list[OfferIn], *, stages: list[str]) -> list[str]:
    """What in `[[offers]]` repeats a key or names a stage that does not exist."""
    problems, seen = [], set()
    for index, offer in enumerate(offers):
        if offer.key in seen:
            problems.append(f"offers[{index}].key: {offer.key!r} is given twice; keys are unique")
        seen.add(offer.key)
        for stage in offer.eligibility.stages:
            if stage not in stages:
                problems.append(f"offers[{index}].eligibility.stages: unknown stage {stage!r}"
                                f" (stages: {', '.join(stages)})")  # fmt: skip
    return problems
