"""Pure rules for profile data: traits, consent and preferences, and how merges combine them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

GRANTED, DENIED = "granted", "denied"
_RESTRICTIVENESS = {DENIED: 2, GRANTED: 1}


def consent_status(value: object) -> str | None:
    """Read one consent answer (`true`, `"granted"`, `"opt_out"` …) as granted or denied."""
    if isinstance(value, bool):
        return GRANTED if value else DENIED
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"granted", "yes", "true", "opt_in", "opted_in", "subscribed", "1"}:
            return GRANTED
        if text in {"denied", "no", "false", "opt_out", "opted_out", "unsubscribed", "0"}:
            return DENIED
    if isinstance(value, dict) and "status" in value:
        return consent_status(value["status"])
    return None


def consent_update(
    raw: dict[str, Any], *, source: str, at: datetime, via: str = "event"
) -> dict[str, Any]:
    """Turn `{"email": true, "sms": "opt_out"}` into stored consent entries with their source
    (`via`: event or import; `source`: the event's message id)."""
    entries: dict[str, Any] = {}
    for purpose, answer in raw.items():
        status = consent_status(answer)
        if status is not None:
            entries[str(purpose)[:100]] = {
                "status": status,
                "source": source,
                "at": at.isoformat(),
                "via": via,
            }
    return entries


def newer_consent(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Apply `incoming` answers over `current`: per purpose the later answer wins, so an old
    event that arrives late does not overwrite a newer choice (an equal time: the incoming)."""
    merged = dict(current)
    for purpose, entry in incoming.items():
        mine = merged.get(purpose)
        if mine is None or _when(entry) >= _when(mine):
            merged[purpose] = entry
    return merged


def _when(entry: object) -> datetime:
    at = entry.get("at") if isinstance(entry, dict) else None
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def merge_consent(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Combine two profiles' consent: per purpose the more restrictive answer wins."""
    merged = dict(first)
    for purpose, entry in second.items():
        mine = merged.get(purpose)
        if mine is None or _rank(entry) > _rank(mine):
            merged[purpose] = entry
    return merged


def _rank(entry: object) -> int:
    status = entry.get("status") if isinstance(entry, dict) else None
    return _RESTRICTIVENESS.get(str(status), 0)


def name_from_traits(traits: dict[str, Any]) -> str | None:
    """Return a display name from `name`, or `firstName`/`first_name` and last name."""
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    first = traits.get("firstName") or traits.get("first_name") or ""
    last = traits.get("lastName") or traits.get("last_name") or ""
    full = f"{first} {last}".strip() if isinstance(first, str) and isinstance(last, str) else ""
    return full[:200] or None


def split_traits(traits: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split incoming traits into (plain traits, preferences, raw consent answers)."""
    plain = dict(traits)
    preferences = plain.pop("preferences", None)
    consent = plain.pop("consent", None)
    return (
        plain,
        preferences if isinstance(preferences, dict) else {},
        consent if isinstance(consent, dict) else {},
    )
