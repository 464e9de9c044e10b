"""Consent per purpose: what each answer means, the default when there is none, and who may
be contacted or profiled for what.

A profile's consent is a JSON object keyed by purpose (`customers.consent`); each answer keeps
its status (granted or denied), when it was given, through what (`via`: an event, an import,
the preference centre, an agent, a program, an erasure) and from whom (`source`: the event's
message id, the staff member or key). The four purposes HX Pulse acts on are `PURPOSES`;
other keys sent by a consent manager (`sms`, `Advertising`, …) are kept and shown as they
came, and segments can ask for any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from hxpulse.customers.models import Customer
from hxpulse.customers.traits import DENIED, GRANTED, consent_status
from hxpulse.errors import Invalid


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    label: str  # for people: the customer page and the preference centre
    description: str
    opt_in: bool  # True: only when granted; False: allowed unless denied


PURPOSES: dict[str, Purpose] = {
    p.name: p
    for p in (
        Purpose("email_marketing", "Marketing emails",
                "News, offers and recommendations by email.", opt_in=True),
        Purpose("surveys", "Surveys",
                "Now and then, a question about how we did.", opt_in=False),
        Purpose("personalisation", "Personalisation",
                "Offers and content chosen from your own history with us.", opt_in=False),
        Purpose("profiling", "Profiling",
                "Comparing your history with similar customers' to predict what you may like"
                " and how likely you are to come back.", opt_in=False),
    )
}  # fmt: skip
# An answer under `email` (what many sources send, and the demo) is about the email channel:
# denied stops every email, survey invitations included; it stands in for `email_marketing`
# when that purpose has no answer of its own.
EMAIL_CHANNEL = "email"
VIA = ("event", "import", "preference_centre", "agent", "api", "erasure_request", "erasure")
customers_t = cast(Table, Customer.__table__)


def check_purpose(purpose: str) -> Purpose:
    """The purpose named `purpose`; Invalid naming the known ones otherwise."""
    found = PURPOSES.get(purpose)
    if found is None:
        raise Invalid(
            f"unknown consent purpose {purpose[:60]!r}: use one of {', '.join(PURPOSES)}",
            errors=[{"field": "purpose", "message": "unknown purpose"}],
        )
    return found


def status_of(consent: Mapping[str, Any], purpose: str) -> str | None:
    """The recorded answer for `purpose` (granted, denied) or None when there is none."""
    entry = consent.get(purpose)
    status = consent_status(entry) if entry is not None else None
    if status is None and purpose == "email_marketing":
        return status_of(consent, EMAIL_CHANNEL) if EMAIL_CHANNEL in consent else None
    return status


def allows_consent(consent: Mapping[str, Any] | None, purpose: str) -> bool:
    """Whether a profile with `consent` may be used for `purpose`: opt-in purposes need an
    answer of granted, the others are allowed unless denied."""
    spec = check_purpose(purpose)
    status = status_of(consent or {}, purpose)
    return status == GRANTED if spec.opt_in else status != DENIED


def email_allowed(consent: Mapping[str, Any] | None) -> bool:
    """Whether the customer may be emailed at all (no denial of the email channel)."""
    return status_of(consent or {}, EMAIL_CHANNEL) != DENIED


def allows(source: Connection | Mapping[str, Any], customer_id: int | None, purpose: str) -> bool:
    """Whether customer `customer_id` may be used for `purpose` (see `PURPOSES` for the
    defaults). `source` is a connection, or a profile already read (a mapping with its
    `consent`; `customer_id` is then not needed). A merged profile answers with its survivor's
    consent; an unknown customer is allowed nothing."""
    if isinstance(source, Mapping):
        return allows_consent(source.get("consent"), purpose)
    check_purpose(purpose)
    if customer_id is None:
        raise ValueError("allows: give customer_id with a connection")
    return customer_id in allowed(source, [customer_id], purpose)


def allowed(conn: Connection, customer_ids: list[int], purpose: str) -> set[int]:
    """The customers among `customer_ids` that may be used for `purpose` (merged profiles
    answer with their survivor's consent), in one query per 500."""
    check_purpose(purpose)
    c = customers_t.c
    survivor = customers_t.alias("survivor")
    found: set[int] = set()
    for start in range(0, len(customer_ids), 500):
        part = customer_ids[start : start + 500]
        rows = conn.execute(
            select(c.id, c.consent, survivor.c.consent)
            .outerjoin(survivor, survivor.c.id == c.merged_into_id)
            .where(c.id.in_(part))
        )
        for cid, own, merged in rows:
            if allows_consent(merged if merged is not None else own, purpose):
                found.add(cid)
    return found


def entry(status: str, *, via: str, source: str, at: datetime) -> dict[str, Any]:
    """One stored answer."""
    if status not in (GRANTED, DENIED):
        raise Invalid(f"consent status must be granted or denied, got {status[:40]!r}")
    if via not in VIA:
        raise ValueError(f"unknown consent source {via!r}")
    return {"status": status, "at": at.isoformat(), "via": via, "source": source[:200]}


def view(consent: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the customer page, the preference centre and the API show: every purpose with its
    answer (or none), whether it is allowed now, and the other answers kept as they came."""
    consent = consent or {}
    purposes = []
    for spec in PURPOSES.values():
        stored = consent.get(spec.name)
        answer = stored if isinstance(stored, dict) else None
        purposes.append({
            "purpose": spec.name, "label": spec.label, "description": spec.description,
            "default": "only when granted" if spec.opt_in else "allowed unless denied",
            "status": status_of(consent, spec.name), "allowed": allows_consent(consent, spec.name),
            "at": answer.get("at") if answer else None,
            "via": answer.get("via", "event") if answer else None,
            "source": answer.get("source") if answer else None,
        })  # fmt: skip
    others = {k: v for k, v in consent.items() if k not in PURPOSES}
    return {"purposes": purposes, "other": others, "email_allowed": email_allowed(consent)}
