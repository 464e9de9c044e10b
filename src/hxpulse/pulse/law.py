"""What the stored pulse keys were built with, kept in `meta`, and the check at start-up.

A key means something only under the half-life and the 12 : 1 multiplier it was summed with,
and the epoch of the key's formula. Every full rebuild records them in `meta.pulse_law`, with a
fingerprint of the weights; a migration that changes what keys mean sets `meta.pulse_rebuild`
(the reason), and whoever starts next (`hxpulse migrate`, `serve`, any command) rebuilds.

At start-up, against the configured `[pulse]`: another half-life or multiplier is refused (the
keys would read as nonsense) with a message naming `hxpulse pulse --rebuild`; other weights are
a warning (past events keep their old weights until a rebuild); nothing recorded yet (a new
database) records the configuration.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, delete, insert, select

from hxpulse.auth.models import Meta
from hxpulse.config import PulseSettings
from hxpulse.errors import HXError
from hxpulse.pulse.service import EPOCH

meta_t = cast(Table, Meta.__table__)
LAW = "pulse_law"
REBUILD = "pulse_rebuild"
REBUILD_COMMAND = "hxpulse pulse --rebuild"
_DECAY = ("epoch", "half_life_days", "negative_multiplier")


def describe(settings: PulseSettings) -> dict[str, Any]:
    """What the keys depend on: the decay law, and a fingerprint of the weights."""
    weights = {name: w.model_dump() for name, w in sorted(settings.weights.items())}
    blob = orjson.dumps({"weights": weights, "value_reference": settings.value_reference})
    return {"epoch": EPOCH.isoformat(), "half_life_days": settings.half_life_days,
            "negative_multiplier": settings.negative_multiplier,
            "weights": hashlib.sha256(blob).hexdigest()[:16]}  # fmt: skip


def _read(conn: Connection, key: str) -> str | None:
    found = conn.execute(select(meta_t.c.value).where(meta_t.c.key == key)).scalar()
    return None if found is None else str(found)


def recorded(conn: Connection) -> dict[str, Any] | None:
    """The law the stored keys were last built with (None: never recorded)."""
    found = _read(conn, LAW)
    return None if found is None else cast(dict[str, Any], orjson.loads(found))


def rebuild_reason(conn: Connection) -> str | None:
    """Why every key must be rebuilt before use (set by a migration), or None."""
    return _read(conn, REBUILD)


def record(conn: Connection, settings: PulseSettings) -> None:
    """Note that every key is now built with `settings` (and no rebuild is pending)."""
    conn.execute(delete(meta_t).where(meta_t.c.key.in_([LAW, REBUILD])))
    conn.execute(insert(meta_t), {"key": LAW, "value": orjson.dumps(describe(settings)).decode()})


def check(conn: Connection, settings: PulseSettings) -> list[str]:
    """Compare the configured `[pulse]` with the keys' law: raise when the keys cannot be read
    with it, return warnings otherwise (recording it when nothing is recorded yet)."""
    stored = recorded(conn)
    if stored is None:
        record(conn, settings)
        return []
    wanted = describe(settings)
    changed = [name for name in _DECAY if stored.get(name) != wanted[name]]
    if changed:
        was = ", ".join(f"{name} = {stored.get(name)}" for name in changed)
        now = ", ".join(f"{name} = {wanted[name]}" for name in changed)
        raise HXError(f"the stored pulse was built with {was}, but [pulse] now has {now}: run"
                      f" `{REBUILD_COMMAND}` to rebuild it (or restore the setting)")  # fmt: skip
    if stored.get("weights") != wanted["weights"]:
        return [f"the [pulse] weights changed since the pulse was last rebuilt: past events keep"
                f" their old weights until `{REBUILD_COMMAND}`"]  # fmt: skip
    return []
