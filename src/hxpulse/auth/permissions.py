"""Who may do what: one table of permissions × roles and key scopes, asked by routes and pages.

A person signs in with a role (`admin`, `analyst`, `agent`); a program sends a key with scopes
(`track`, `read`, `write`, `admin`). Every route names one permission (`deps.allow`), and every
page hides what the viewer's role cannot do by asking `Actor.can` with the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ROLES = ("admin", "analyst", "agent")
ALL = ROLES
STAFF = ("admin", "analyst")
ADMIN = ("admin",)

# permission -> (what it allows, in words for messages and docs; the roles that have it)
PERMISSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "customers:read": ("see customer profiles, their pulse and journey", ALL),
    "pulse:read": ("see the pulse overview and who is most at risk", ALL),
    "consent:write": ("record a customer's consent", ("admin", "agent")),
    "customers:export": ("export everything held about a customer", ADMIN),
    "customers:erase": ("erase a customer's personal data", ADMIN),
    "reports:read": ("see the journey funnel and reports", STAFF),
    "dashboard:read": ("see the home dashboard: NPS, journey, at-risk, cases, advocacy", STAFF),
    "segments:read": ("see segments and their members", STAFF),
    "segments:write": ("create, change and delete segments", STAFF),
    "segments:export": ("download a segment's members as CSV", STAFF),
    "surveys:read": ("see surveys, answers, NPS and themes", STAFF),
    "surveys:write": ("create and change surveys and themes", STAFF),
    "surveys:invite": ("invite customers to surveys", STAFF),
    "responses:write": ("import survey answers", STAFF),
    "advocacy:read": ("see the advocacy report: asks, referrals, reviews and shares", STAFF),
    "value:read": ("see the value report: CLV distribution, value at risk, top customers", STAFF),
    "advocacy:ask": ("ask a customer for a referral or a review", ("admin", "agent")),
    "offers:read": ("see the offer catalogue and the offers report", STAFF),
    "offers:write": ("create, change and deactivate offers", STAFF),
    "offers:serve": ("get a customer's next best offers (logged as shown) and their answers", ALL),
    "events:track": ("send tracking calls (the Segment API) with a write key", ()),
    "events:write": ("send events with an API key", ()),
    "cases:read": ("see cases, the case inbox and the SLA report", ALL),
    "cases:work": ("open, reply to, reassign and resolve cases", ("admin", "agent")),
    "teams:manage": ("manage teams, their agents and business hours", ADMIN),
    "rules:read": ("see rules and their firings", STAFF),
    "rules:write": ("create, change and test rules", ADMIN),
    "webhooks:manage": ("manage webhook endpoints and their secrets", ADMIN),
    "deliveries:read": ("see the outbox's deliveries and dead letters", STAFF),
    "deliveries:replay": ("replay dead deliveries", ADMIN),
    "feed:read": ("follow the team feed (new cases, breaches, customers turning at risk)", ALL),
    "feed:token": ("issue a customer's live-feed token (the business's backend)", ()),
    "audit:read": ("read the audit log", ADMIN),
    "users:manage": ("manage people and their roles", ADMIN),
    "keys:manage": ("create and revoke keys", ADMIN),
    "account:manage": ("see your sessions, sign out everywhere and change your password", ALL),
}
PEOPLE_ONLY = ("account:manage",)  # a key has no account of its own

# key scope -> the permissions it carries (`admin`: every permission but a person's own account;
# `read` reads everything but the audit log, which is for admins)
SCOPES: dict[str, tuple[str, ...]] = {
    "track": ("events:track",),
    "read": tuple(p for p in PERMISSIONS if p.endswith(":read") and p != "audit:read")
    + ("segments:export",),
    "write": (
        "events:write",
        "responses:write",
        "segments:write",
        "surveys:write",
        "surveys:invite",
        "consent:write",
        "cases:work",
        "feed:token",
        "advocacy:ask",
        "offers:serve",
    ),  # fmt: skip
    "admin": tuple(p for p in PERMISSIONS if p not in PEOPLE_ONLY),
}


def describe(permission: str) -> str:
    """What `permission` allows, in words ("create, change and delete segments")."""
    return PERMISSIONS[permission][0]


def role_can(role: str | None, permission: str) -> bool:
    """Whether a person with `role` has `permission`."""
    return role is not None and role in PERMISSIONS[permission][1]


def scopes_can(scopes: tuple[str, ...], permission: str) -> bool:
    """Whether a key with `scopes` has `permission`."""
    return any(permission in SCOPES.get(scope, ()) for scope in scopes)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a signed-in person (with a role) or a key (with scopes)."""

    kind: Literal["user", "key"]
    id: int
    name: str
    role: str | None = None
    scopes: tuple[str, ...] = ()

    def can(self, permission: str) -> bool:
        """Whether this actor has `permission` (an unknown permission is a programming error)."""
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        if self.kind == "user":
            return role_can(self.role, permission)
        return scopes_can(self.scopes, permission)

    @property
    def label(self) -> str:
        """How the audit log names this actor: `user 3 (ana@example.com)`, `key 2 (shop)`."""
        return f"{self.kind} {self.id} ({self.name})"


def matrix_markdown() -> str:
    """The table of permissions × roles and key scopes, as docs/architecture.md shows it."""
    lines = [
        f"| permission | what it allows | {' | '.join(ROLES)} | key scopes |",
        f"|---|---|{'---|' * len(ROLES)}---|",
    ]
    for permission, (what, roles) in PERMISSIONS.items():
        marks = " | ".join("yes" if role in roles else "—" for role in ROLES)
        scopes = ", ".join(s for s, granted in SCOPES.items() if permission in granted)
        lines.append(f"| `{permission}` | {what} | {marks} | {scopes or '—'} |")
    return "\n".join(lines)
