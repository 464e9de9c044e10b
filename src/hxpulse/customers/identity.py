"""Normalise identities so that one person's email or phone always looks the same."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from hxpulse.customers.models import IDENTITY_KINDS
from hxpulse.errors import Invalid

MAX_IDENTITY_LENGTH = 320
DEFAULT_PHONE_REGION = "US"


def normalise_email(value: str) -> str:
    """Return the email trimmed and lower-cased; refuse anything without `local@domain`."""
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or " " in email:
        raise Invalid(f"{value!r} is not an email address")
    return email


@lru_cache(maxsize=65536)
def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """Return the number in E.164 (`+14155550100`); numbers without `+` use `region`."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid(f"{value!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_social(value: str) -> str:
    """Return `network:handle` in lower case without a leading `@` (`twitter:alice`)."""
    network, colon, handle = value.strip().partition(":")
    handle = handle.strip().lstrip("@")
    if not colon or not network or not handle:
        raise Invalid(f"{value!r} is not a social handle: write it as network:handle")
    return f"{network.strip().lower()}:{handle.lower()}"


def normalise(kind: str, value: object) -> str:
    """Return `value` normalised for identity `kind`; raise Invalid when it cannot be."""
    if kind not in IDENTITY_KINDS:
        raise Invalid(f"unknown identity kind {kind!r}: use one of {', '.join(IDENTITY_KINDS)}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(f"{kind} must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise Invalid(f"{kind} is empty")
    if len(text) > MAX_IDENTITY_LENGTH:
        raise Invalid(f"{kind} is longer than {MAX_IDENTITY_LENGTH} characters")
    if kind == "email":
        return normalise_email(text)
    if kind == "phone":
        return normalise_phone(text)
    if kind == "social":
        return normalise_social(text)
    return text
