"""Keys for programs and accounts for people: create, check, list."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Table, insert, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.auth.models import ApiKey, Meta, User
from hxpulse.customers.identity import normalise_email
from hxpulse.errors import Conflict, Invalid

SCOPES = ("track", "read", "write", "admin")
ROLES = ("admin", "analyst", "agent")
keys_t = cast(Table, ApiKey.__table__)
users_t = cast(Table, User.__table__)
meta_t = cast(Table, Meta.__table__)
_hasher = PasswordHasher()
MIN_PASSWORD = 8
TOUCH_KEY_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    name: str
    scopes: tuple[str, ...]
    origins: tuple[str, ...] = ()  # the web origins a browser key accepts
    last_used_at: datetime | None = None

    def accepts_origin(self, origin: str) -> bool:
        """Whether a browser on `origin` (the request's Origin header) may use this key."""
        try:
            return normalise_origin(origin) in self.origins
        except Invalid:
            return False

    def needs_touch(self, now: datetime) -> bool:
        """Whether `last_used_at` is old enough to be written again (once a minute at most)."""
        return self.last_used_at is None or now - self.last_used_at >= TOUCH_KEY_EVERY


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]*:[0-9a-f:.]*")  # name or IPv6


def normalise_origin(raw: str) -> str:
    """Return `raw` as a browser writes an origin (`https://shop.example`, lower case, no default
    port), or raise Invalid naming it."""
    problem = (f"origin {raw[:200]!r} is not a web origin: give the scheme and host, and the"
               " port if it is not the default, like https://shop.example or"
               " http://localhost:3000")  # fmt: skip
    text = raw.strip()
    if any(c.isspace() or not c.isprintable() for c in text):
        raise Invalid(problem)
    parts = urlsplit(text)
    try:
        port, host = parts.port, parts.hostname
        host = host.encode("idna").decode("ascii") if host else ""  # as browsers send it
    except (ValueError, UnicodeError):
        raise Invalid(problem) from None
    scheme = parts.scheme.lower()
    if (scheme not in _DEFAULT_PORTS or not _HOST.fullmatch(host) or parts.username is not None
            or parts.path not in ("", "/") or parts.query or parts.fragment):  # fmt: skip
        raise Invalid(problem)
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")


def create_key(
    conn: Connection,
    *,
    name: str,
    scopes: list[str],
    origins: list[str] | None = None,
    who: Who = SYSTEM,
) -> tuple[KeyInfo, str]:
    """Create a key and return it with its secret, which is shown this once and never stored.

    A key with `origins` is a browser key: it is visible in the page, so it may only track."""
    name = name.strip()
    if not name:
        raise Invalid("key name is empty")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(f"unknown scope {', '.join(unknown) or '(none)'}: use {', '.join(SCOPES)}")
    accepted = tuple(dict.fromkeys(normalise_origin(o) for o in origins or ()))
    if accepted and set(scopes) != {"track"}:
        raise Invalid("a key with origins is a browser key, visible in the page: it may only"
                      f" have the track scope, not {', '.join(sorted(set(scopes)))}")  # fmt: skip
    prefix = "hxw" if scopes == ["track"] else "hxk"
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key_id = conn.execute(
        insert(keys_t).returning(keys_t.c.id),
        {"name": name, "prefix": secret[:10], "key_hash": _digest(secret),
         "scopes": ",".join(sorted(set(scopes))), "origins": " ".join(accepted) or None,
         "created_at": datetime.now(UTC)},
    ).scalar_one()  # fmt: skip
    info = KeyInfo(key_id, name, tuple(sorted(set(scopes))), accepted)
    audit.record(conn, who=who, action="key.create", now=datetime.now(UTC), subject_kind="key",
                 subject_id=key_id, detail={"name": name, "scopes": list(info.scopes),
                                            "origins": list(accepted)})  # fmt: skip
    return info, secret


def check_key(conn: Connection, secret: str) -> KeyInfo | None:
    """Return the key behind `secret`, or None when it is unknown or revoked."""
    row = conn.execute(
        select(
            keys_t.c.id, keys_t.c.name, keys_t.c.scopes, keys_t.c.origins, keys_t.c.last_used_at
        ).where(  # fmt: skip
            keys_t.c.key_hash == _digest(secret), keys_t.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return KeyInfo(row.id, row.name, tuple(row.scopes.split(",")), _origins(row.origins),
                   row.last_used_at)  # fmt: skip


def _origins(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.split()) if stored else ()


def touch_key(conn: Connection, *, key_id: int, now: datetime) -> None:
    """Record that the key was used now (callers do it at most once a minute per key)."""
    conn.execute(update(keys_t).where(keys_t.c.id == key_id).values(last_used_at=now))


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Return every key without its secret: name, scopes, origins, prefix, dates."""
    rows = conn.execute(select(keys_t).order_by(keys_t.c.id))
    return [{k: list(_origins(v)) if k == "origins" else v
             for k, v in row._mapping.items() if k != "key_hash"} for row in rows]  # fmt: skip


def revoke_key(conn: Connection, *, key_id: int, who: Who = SYSTEM) -> bool:
    """Revoke a key; return False when there is no such key or it was revoked already."""
    now = datetime.now(UTC)
    done = conn.execute(
        update(keys_t)
        .where(keys_t.c.id == key_id, keys_t.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if done.rowcount == 0:
        return False
    audit.record(conn, who=who, action="key.revoke", now=now, subject_kind="key",
                 subject_id=key_id)  # fmt: skip
    return True


def hash_password(password: str) -> str:
    """The argon2 hash of a password long enough to accept."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"password must be at least {MIN_PASSWORD} characters long",
            errors=[{"field": "password", "message": f"at least {MIN_PASSWORD} characters"}],
        )
    if len(password) > 1000:
        raise Invalid(
            "password must be at most 1000 characters long",
            errors=[{"field": "password", "message": "at most 1000 characters"}],
        )
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_role(role: str) -> str:
    """`role` if it is one of ROLES, else a 400 naming the field."""
    if role not in ROLES:
        raise Invalid(
            f"unknown role {role!r}: use {', '.join(ROLES)}",
            errors=[{"field": "role", "message": f"one of {', '.join(ROLES)}"}],
        )
    return role


def create_user(
    conn: Connection,
    *,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
    who: Who = SYSTEM,
) -> int:
    """Create a person who signs in to the web pages; return the user id."""
    check_role(role)
    password_hash = hash_password(password)
    try:
        address = normalise_email(email)
    except Invalid as exc:
        raise Invalid(exc.message, errors=[{"field": "email", "message": exc.message}]) from None
    if conn.execute(select(users_t.c.id).where(users_t.c.email == address)).first():
        raise Conflict(f"a user with email {address} exists already")
    now = datetime.now(UTC)
    user_id: int = conn.execute(
        insert(users_t).returning(users_t.c.id),
        {"email": address, "name": name, "role": role, "password_hash": password_hash,
         "active": True, "created_at": now},
    ).scalar_one()  # fmt: skip
    audit.record(conn, who=who, action="user.create", now=now, subject_kind="user",
                 subject_id=user_id, detail={"email": address, "role": role})  # fmt: skip
    return user_id


def authenticate(conn: Connection, *, email: str, password: str) -> dict[str, Any] | None:
    """Return the active user when the password is right, else None (the same answer, in the
    same time, for an unknown email). Reads only: the caller records the sign-in."""
    try:
        address = normalise_email(email)
    except Invalid:
        address = None
    row = None
    if address is not None:
        row = conn.execute(
            select(users_t).where(users_t.c.email == address, users_t.c.active.is_(True))
        ).first()
    if row is None:
        _hasher.hash(password)  # take the same time as a wrong password
        return None
    if not password_matches(row.password_hash, password):
        return None
    return {"id": row.id, "email": row.email, "role": row.role, "name": row.name}


def signed_in(conn: Connection, *, user_id: int, now: datetime) -> None:
    """Record the person's sign-in time."""
    conn.execute(update(users_t).where(users_t.c.id == user_id).values(last_login_at=now))


def get_user(conn: Connection, *, user_id: int) -> dict[str, object] | None:
    row = conn.execute(
        select(users_t.c.id, users_t.c.email, users_t.c.role, users_t.c.name).where(
            users_t.c.id == user_id, users_t.c.active.is_(True)
        )
    ).first()
    return dict(row._mapping) if row else None


def session_secret(conn: Connection) -> str:
    """Return the instance's session secret, generating and storing it on first use."""
    found = conn.execute(select(meta_t.c.value).where(meta_t.c.key == "secret_key")).scalar()
    if found:
        return str(found)
    secret = secrets.token_urlsafe(48)
    conn.execute(insert(meta_t), {"key": "secret_key", "value": secret})
    return secret
