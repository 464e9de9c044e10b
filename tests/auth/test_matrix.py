"""The whole access matrix: every route of the application × every kind of actor (each role,
no one, a key of each scope), allowed or denied exactly as auth.permissions says.

Allowed means the guard let the request through: any answer but 401, 403 or a redirect to the
sign-in form (a 400 or 404 after the guard still shows it passed). Denied means 401, the
sign-in redirect, or a 403 that names the permission; or, for a route with somewhere to send
them `instead` (the home dashboard), a 303 there for a signed-in person. A route added to the
application without an entry in ROUTES fails `test_every_route_has_an_entry`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.routing import Mount

from hxpulse.advocacy import service as advocacy
from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.auth.permissions import PERMISSIONS, describe, role_can, scopes_can
from hxpulse.cases import service as cases
from hxpulse.cases import teams as cases_teams
from hxpulse.config import FeedSettings, Settings
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.feeds import service as feeds
from hxpulse.ingest import ingest
from hxpulse.offers import service as offer_service
from hxpulse.offers.settings import OfferIn
from hxpulse.outbox import service as outbox
from hxpulse.outbox.service import Action
from hxpulse.privacy import links as preference_links
from hxpulse.segments import service as segments
from hxpulse.surveys import links
from hxpulse.surveys import service as surveys
from hxpulse.webhooks import service as webhooks
from tests.surveys.helpers import make_survey

try:  # FastAPI ≥ 0.120 keeps included routers whole: walk them through their contexts
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI lists every route flat
    iter_route_contexts = None

PASSWORD = "matrix password 1"
ROLES = ("admin", "analyst", "agent")
KEY_SCOPES = ("track", "read", "write", "admin")
ACTORS = (*ROLES, "nobody", *(f"key:{s}" for s in KEY_SCOPES))
DEFINITION = {"field": "stage", "op": "eq", "value": "customer"}
PUBLIC, TRACK = "public", "track"


@dataclass(frozen=True)
class Call:
    """How to call one route: what it needs, a concrete path, a body, whether it ends the
    caller's session (the caller signs in again afterwards)."""

    need: str  # a permission, PUBLIC, or TRACK (the tracking API's write keys)
    path: str = ""  # {names} are filled from the fixture's ids; default: the route's path
    json: Any = None
    form: dict[str, str] | None = None
    ends_session: bool = False
    instead: str | None = None  # where a signed-in person without `need` is sent (a 303)


ROUTES: dict[tuple[str, str], Call] = {
    ("GET", "/"): Call("dashboard:read", instead="/customers"),  # the home dashboard
    ("GET", "/api/dashboard"): Call("dashboard:read"),
    ("GET", "/healthz"): Call(PUBLIC),
    ("GET", "/favicon.ico"): Call(PUBLIC),
    ("GET", "/openapi.json"): Call(PUBLIC),
    ("GET", "/docs"): Call(PUBLIC),
    ("MOUNT", "/static"): Call(PUBLIC, "/static/style.css"),
    ("MOUNT", "/vendor/plotly"): Call(PUBLIC, "/vendor/plotly/plotly.min.js"),
    ("MOUNT", "/vendor/docs"): Call(PUBLIC, "/vendor/docs/swagger-ui.css"),
    # tracking: write keys only
    ("POST", "/v1/track"): Call(TRACK, json={"userId": "m1", "event": "Matrix"}),
    ("POST", "/v1/identify"): Call(TRACK, json={"userId": "m1", "traits": {"plan": "pro"}}),
    ("POST", "/v1/alias"): Call(TRACK, json={"userId": "m1", "previousId": "m0"}),
    ("POST", "/v1/page"): Call(TRACK, json={"userId": "m1", "name": "Home"}),
    ("POST", "/v1/screen"): Call(TRACK, json={"userId": "m1", "name": "Home"}),
    ("POST", "/v1/group"): Call(TRACK, json={"userId": "m1", "groupId": "g1"}),
    ("POST", "/v1/batch"): Call(
        TRACK, json={"batch": [{"type": "track", "userId": "m1", "event": "Matrix"}]}
    ),
    # analytics.js's short paths, and the settings documents the browser SDKs load
    ("POST", "/v1/t"): Call(TRACK, json={"userId": "m1", "event": "Matrix"}),
    ("POST", "/v1/i"): Call(TRACK, json={"userId": "m1", "traits": {"plan": "pro"}}),
    ("POST", "/v1/a"): Call(TRACK, json={"userId": "m1", "previousId": "m0"}),
    ("POST", "/v1/p"): Call(TRACK, json={"userId": "m1", "name": "Home"}),
    ("POST", "/v1/s"): Call(TRACK, json={"userId": "m1", "name": "Home"}),
    ("POST", "/v1/g"): Call(TRACK, json={"userId": "m1", "groupId": "g1"}),
    ("POST", "/v1/b"): Call(
        TRACK, json={"batch": [{"type": "track", "userId": "m1", "event": "Matrix"}]}
    ),
    ("GET", "/v1/projects/{write_key}/settings"): Call(TRACK, "/v1/projects/ACTOR_KEY/settings"),
    ("GET", "/sourceConfig"): Call(TRACK, "/sourceConfig?writeKey=ACTOR_KEY"),
    ("GET", "/sourceConfig/"): Call(TRACK, "/sourceConfig/?writeKey=ACTOR_KEY"),
    ("POST", "/api/events"): Call(
        "events:write",
        json={
            "events": [
                {
                    "type": "page_view",
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "email": "ann@example.com",
                }
            ]
        },
    ),  # fmt: skip
    # customers, pulse, journey
    ("GET", "/api/customers"): Call("customers:read"),
    ("GET", "/api/customers/{ref}"): Call("customers:read", "/api/customers/ann@example.com"),
    ("GET", "/api/customers/{ref}/pulse"): Call(
        "customers:read", "/api/customers/ann@example.com/pulse"
    ),
    ("GET", "/api/customers/{ref}/pulse/history"): Call(
        "customers:read", "/api/customers/ann@example.com/pulse/history"
    ),
    ("GET", "/api/customers/{ref}/journey"): Call(
        "customers:read", "/api/customers/ann@example.com/journey"
    ),
    ("GET", "/api/pulse/at-risk"): Call("pulse:read"),
    ("GET", "/api/pulse/bands"): Call("pulse:read"),
    ("GET", "/api/pulse/movers"): Call("pulse:read"),
    ("GET", "/api/journey/funnel"): Call("reports:read"),
    ("GET", "/customers"): Call("customers:read"),
    ("GET", "/customers/{customer_id}"): Call("customers:read", "/customers/{customer}"),
    ("GET", "/pulse"): Call("pulse:read"),
    ("GET", "/pulse/at-risk"): Call("pulse:read"),
    ("GET", "/journey"): Call("reports:read"),
    # segments
    ("GET", "/api/segments"): Call("segments:read"),
    ("POST", "/api/segments"): Call(
        "segments:write", json={"name": "Matrix", "definition": DEFINITION}
    ),
    ("POST", "/api/segments/count"): Call("segments:read", json={"definition": DEFINITION}),
    ("GET", "/api/segments/{segment_id}"): Call("segments:read", "/api/segments/{segment}"),
    ("PUT", "/api/segments/{segment_id}"): Call(
        "segments:write", "/api/segments/{segment}", {"name": "Kept", "definition": DEFINITION}
    ),
    ("DELETE", "/api/segments/{segment_id}"): Call("segments:write", "/api/segments/{doomed}"),
    ("GET", "/api/segments/{segment_id}/members"): Call(
        "segments:read", "/api/segments/{segment}/members"
    ),
    ("GET", "/api/segments/{segment_id}/export.csv"): Call(
        "segments:export", "/api/segments/{segment}/export.csv"
    ),
    ("GET", "/segments"): Call("segments:read"),
    ("POST", "/segments"): Call(
        "segments:write",
        form={
            "name": "Form segment",
            "match": "all",
            "c0.subject": "stage",
            "c0.op": "eq",
            "c0.value": "customer",
        },
    ),  # fmt: skip
    ("GET", "/segments/{segment_id}"): Call("segments:read", "/segments/{segment}"),
    ("POST", "/segments/{segment_id}/delete"): Call(
        "segments:write", "/segments/{doomed_too}/delete", form={}
    ),
    # surveys, answers, NPS, themes
    ("GET", "/api/surveys"): Call("surveys:read"),
    ("POST", "/api/surveys"): Call("surveys:write", json={"name": "Matrix NPS", "kind": "nps"}),
    ("GET", "/api/surveys/{ref}"): Call("surveys:read", "/api/surveys/{survey}"),
    ("PUT", "/api/surveys/{survey_id}"): Call(
        "surveys:write", "/api/surveys/{survey}", {"name": "Relationship NPS", "kind": "nps"}
    ),
    ("POST", "/api/surveys/{survey_id}/invite"): Call(
        "surveys:invite", "/api/surveys/{survey}/invite", {"customer": "ann@example.com"}
    ),
    ("POST", "/api/surveys/run"): Call("surveys:invite"),
    ("POST", "/api/responses"): Call(
        "responses:write",
        json={
            "survey": "Relationship NPS",
            "score": 9,
            "answered_at": "2026-01-01T00:00:00Z",
            "email": "ann@example.com",
        },
    ),  # fmt: skip
    ("GET", "/api/nps"): Call("surveys:read"),
    ("GET", "/api/responses"): Call("surveys:read"),
    ("GET", "/api/themes"): Call("surveys:read"),
    ("POST", "/api/themes/fit"): Call("surveys:write"),
    ("PATCH", "/api/themes/{theme_id}"): Call("surveys:write", "/api/themes/99", {"name": "X"}),
    ("POST", "/api/themes/{theme_id}/merge"): Call(
        "surveys:write", "/api/themes/99/merge", {"into": 98}
    ),
    ("GET", "/surveys"): Call("surveys:read"),
    ("GET", "/surveys/new"): Call("surveys:write"),
    ("POST", "/surveys/new"): Call("surveys:write", form={"name": "Form NPS", "kind": "nps"}),
    ("GET", "/surveys/{survey_id}"): Call("surveys:read", "/surveys/{survey}"),
    ("POST", "/surveys/{survey_id}"): Call(
        "surveys:write", "/surveys/{survey}", form={"name": "Relationship NPS", "kind": "nps"}
    ),
    ("POST", "/surveys/{survey_id}/invite"): Call(
        "surveys:invite", "/surveys/{survey}/invite", form={"customer": "ann@example.com"}
    ),
    ("GET", "/nps"): Call("surveys:read"),
    ("POST", "/nps/themes/fit"): Call("surveys:write", form={}),
    ("POST", "/nps/themes/{theme_id}/rename"): Call(
        "surveys:write", "/nps/themes/99/rename", form={"name": "X"}
    ),
    ("POST", "/nps/themes/{theme_id}/merge"): Call(
        "surveys:write", "/nps/themes/99/merge", form={"into": "98"}
    ),
    ("GET", "/s/{token}"): Call(PUBLIC, "/s/{token}"),
    ("POST", "/s/{token}"): Call(PUBLIC, "/s/{token}", form={"score": "9"}),
    # privacy: consent, export, erasure, the preference centre, the audit log
    ("GET", "/api/customers/{ref}/consent"): Call(
        "customers:read", "/api/customers/ann@example.com/consent"
    ),
    ("PUT", "/api/customers/{ref}/consent"): Call(
        "consent:write", "/api/customers/ann@example.com/consent", {"surveys": "granted"}
    ),
    ("GET", "/api/customers/{ref}/export"): Call(
        "customers:export", "/api/customers/ann@example.com/export"
    ),
    ("POST", "/api/customers/{ref}/erase"): Call(
        "customers:erase", "/api/customers/id:{gone}/erase"
    ),
    ("GET", "/api/privacy/requests"): Call("customers:erase"),
    ("GET", "/api/audit"): Call("audit:read"),
    ("POST", "/customers/{customer_id}/consent"): Call(
        "consent:write", "/customers/{customer}/consent", form={"surveys": "granted"}
    ),
    ("POST", "/customers/{customer_id}/erase"): Call(
        "customers:erase", "/customers/{gone_too}/erase", form={"confirm": "erase"}
    ),
    ("GET", "/admin/requests"): Call("customers:erase"),
    ("GET", "/admin/audit"): Call("audit:read"),
    ("GET", "/api/preferences/{token}"): Call(PUBLIC, "/api/preferences/{pref}"),
    ("GET", "/p/{token}"): Call(PUBLIC, "/p/{pref}"),
    ("POST", "/p/{token}/consent"): Call(
        PUBLIC, "/p/{pref}/consent", form={"form_token": "{pref_form}", "surveys": "granted"}
    ),
    ("POST", "/p/{token}/export"): Call(
        PUBLIC, "/p/{pref}/export", form={"form_token": "{pref_form}"}
    ),
    ("GET", "/p/{token}/erase"): Call(PUBLIC, "/p/{pref}/erase"),
    ("POST", "/p/{token}/erase"): Call(
        PUBLIC, "/p/{pref}/erase", form={"form_token": "{pref_form}"}
    ),
    ("GET", "/p/{token}/unsubscribe/{purpose}"): Call(PUBLIC, "/p/{pref}/unsubscribe/surveys"),
    ("POST", "/p/{token}/unsubscribe/{purpose}"): Call(
        PUBLIC, "/p/{pref}/unsubscribe/surveys", form={"form_token": "{pref_form}"}
    ),
    # rules
    ("GET", "/api/rules"): Call("rules:read"),
    ("GET", "/api/rules/{name}"): Call("rules:read", "/api/rules/complaint-opens-case"),
    ("POST", "/api/rules/{name}/test"): Call(
        "rules:read", "/api/rules/complaint-opens-case/test", {"event": {"type": "complaint"}}
    ),
    ("GET", "/api/customers/{ref}/firings"): Call(
        "customers:read", "/api/customers/ann@example.com/firings"
    ),
    ("GET", "/rules"): Call("rules:read"),
    ("POST", "/rules/{name}/test"): Call(
        "rules:read", "/rules/complaint-opens-case/test", form={"type": "complaint"}
    ),
    # people, keys, your account
    ("GET", "/api/users"): Call("users:manage"),
    ("POST", "/api/users"): Call("users:manage", json={"email": "new@example.com"}),
    ("PATCH", "/api/users/{user_id}"): Call(
        "users:manage", "/api/users/{victim}", {"role": "analyst"}
    ),
    ("POST", "/api/users/{user_id}/password"): Call(
        "users:manage", "/api/users/{victim}/password", {}
    ),
    ("POST", "/api/users/{user_id}/sign-out"): Call("users:manage", "/api/users/{victim}/sign-out"),
    ("GET", "/api/keys"): Call("keys:manage"),
    ("POST", "/api/keys"): Call("keys:manage", json={"name": "made", "scopes": ["read"]}),
    ("DELETE", "/api/keys/{key_id}"): Call("keys:manage", "/api/keys/{victim_key}"),
    ("GET", "/api/account"): Call("account:manage"),
    ("POST", "/api/account/sign-out-everywhere"): Call("account:manage", ends_session=True),
    ("GET", "/login"): Call(PUBLIC),
    ("POST", "/login"): Call(PUBLIC, form={"email": "victim@example.com", "password": "wrong"}),
    ("POST", "/logout"): Call(PUBLIC, form={}, ends_session=True),
    ("GET", "/account"): Call("account:manage"),
    ("POST", "/account/sign-out-everywhere"): Call("account:manage", form={}, ends_session=True),
    ("POST", "/account/password"): Call(
        "account:manage",
        form={"current": "not it", "password": "a new password", "confirm": "another one"},
    ),  # fmt: skip
    ("GET", "/admin/users"): Call("users:manage"),
    ("POST", "/admin/users"): Call("users:manage", form={"email": "form@example.com"}),
    ("POST", "/admin/users/{user_id}/role"): Call(
        "users:manage", "/admin/users/{victim}/role", form={"role": "agent"}
    ),
    ("POST", "/admin/users/{user_id}/disable"): Call(
        "users:manage", "/admin/users/{victim}/disable", form={}
    ),
    ("POST", "/admin/users/{user_id}/enable"): Call(
        "users:manage", "/admin/users/{victim}/enable", form={}
    ),
    ("POST", "/admin/users/{user_id}/password"): Call(
        "users:manage", "/admin/users/{victim}/password", form={}
    ),
    ("POST", "/admin/users/{user_id}/sign-out"): Call(
        "users:manage", "/admin/users/{victim}/sign-out", form={}
    ),
    ("GET", "/admin/keys"): Call("keys:manage"),
    ("POST", "/admin/keys"): Call("keys:manage", form={"name": "from the page", "scope": "read"}),
    ("POST", "/admin/keys/{key_id}/revoke"): Call(
        "keys:manage", "/admin/keys/{victim_key_too}/revoke", form={}
    ),
    # cases and teams
    ("GET", "/api/cases"): Call("cases:read"),
    ("POST", "/api/cases"): Call(
        "cases:work", json={"customer": "ann@example.com", "reason": "Matrix"}
    ),
    ("GET", "/api/cases/sla"): Call("cases:read"),
    ("GET", "/api/cases/{case_id}"): Call("cases:read", "/api/cases/{case}"),
    ("POST", "/api/cases/{case_id}/reply"): Call(
        "cases:work", "/api/cases/{case}/reply", {"body": "Hello"}
    ),
    ("POST", "/api/cases/{case_id}/note"): Call(
        "cases:work", "/api/cases/{case}/note", {"body": "Noted"}
    ),
    ("POST", "/api/cases/{case_id}/status"): Call(
        "cases:work", "/api/cases/{case}/status", {"status": "in_progress"}
    ),
    ("POST", "/api/cases/{case_id}/assign"): Call(
        "cases:work", "/api/cases/{case}/assign", {"owner": None}
    ),
    ("POST", "/api/cases/{case_id}/resolve"): Call("cases:work", "/api/cases/{case}/resolve", {}),
    ("GET", "/api/teams"): Call("cases:read"),
    ("POST", "/api/teams"): Call("teams:manage", json={"name": "Matrix API team"}),
    ("PUT", "/api/teams/{team_id}/hours"): Call(
        "teams:manage", "/api/teams/{team}/hours", {"zone": "UTC", "hours": {}}
    ),
    ("POST", "/api/teams/{team_id}/members"): Call(
        "teams:manage", "/api/teams/{team}/members", {"user": "agent@example.com"}
    ),
    ("GET", "/cases"): Call("cases:read"),
    ("GET", "/cases/sla"): Call("cases:read"),
    ("POST", "/cases"): Call("cases:work", form={"customer_id": "{customer}", "reason": "Form"}),
    ("GET", "/cases/{case_id}"): Call("cases:read", "/cases/{case}"),
    ("POST", "/cases/{case_id}/reply"): Call(
        "cases:work", "/cases/{case}/reply", form={"body": "Hello"}
    ),
    ("POST", "/cases/{case_id}/note"): Call(
        "cases:work", "/cases/{case}/note", form={"body": "Noted"}
    ),
    ("POST", "/cases/{case_id}/status"): Call(
        "cases:work", "/cases/{case}/status", form={"status": "open"}
    ),
    ("POST", "/cases/{case_id}/assign"): Call(
        "cases:work", "/cases/{case}/assign", form={"owner": ""}
    ),
    ("POST", "/cases/{case_id}/resolve"): Call("cases:work", "/cases/{case}/resolve", form={}),
    ("GET", "/admin/teams"): Call("teams:manage"),
    ("POST", "/admin/teams"): Call("teams:manage", form={"name": "Form team"}),
    ("POST", "/admin/teams/{team_id}/hours"): Call(
        "teams:manage", "/admin/teams/{team}/hours", form={"hours": "mon-fri 09:00-17:00"}
    ),
    ("POST", "/admin/teams/{team_id}/members"): Call(
        "teams:manage", "/admin/teams/{team}/members", form={"user": "agent@example.com"}
    ),
    # webhooks and deliveries
    ("GET", "/api/webhooks"): Call("webhooks:manage"),
    ("POST", "/api/webhooks"): Call(
        "webhooks:manage", json={"name": "matrix", "url": "https://8.8.8.8/hook"}
    ),
    ("GET", "/api/webhooks/{endpoint_id}"): Call("webhooks:manage", "/api/webhooks/{hook}"),
    ("PATCH", "/api/webhooks/{endpoint_id}"): Call(
        "webhooks:manage", "/api/webhooks/{hook}", {"description": "matrix"}
    ),
    ("DELETE", "/api/webhooks/{endpoint_id}"): Call(
        "webhooks:manage", "/api/webhooks/{doomed_hook}"
    ),
    ("POST", "/api/webhooks/{endpoint_id}/rotate"): Call(
        "webhooks:manage", "/api/webhooks/{hook}/rotate"
    ),
    ("POST", "/api/webhooks/{endpoint_id}/test"): Call(
        "webhooks:manage", "/api/webhooks/{hook}/test"
    ),
    ("GET", "/api/deliveries"): Call("deliveries:read"),
    ("GET", "/api/deliveries/{delivery_id}"): Call("deliveries:read", "/api/deliveries/{delivery}"),
    ("POST", "/api/deliveries/replay"): Call("deliveries:replay", json={}),
    ("POST", "/api/deliveries/{delivery_id}/replay"): Call(
        "deliveries:replay", "/api/deliveries/{delivery}/replay"
    ),
    ("GET", "/webhooks"): Call("webhooks:manage"),
    ("POST", "/webhooks"): Call(
        "webhooks:manage", form={"name": "matrix form", "url": "https://8.8.8.8/hook"}
    ),
    ("POST", "/webhooks/{endpoint_id}/rotate"): Call(
        "webhooks:manage", "/webhooks/{hook}/rotate", form={}
    ),
    ("POST", "/webhooks/{endpoint_id}/test"): Call(
        "webhooks:manage", "/webhooks/{hook}/test", form={}
    ),
    ("POST", "/webhooks/{endpoint_id}/enabled"): Call(
        "webhooks:manage", "/webhooks/{hook}/enabled", form={"enabled": "true"}
    ),
    ("POST", "/webhooks/{endpoint_id}/delete"): Call(
        "webhooks:manage", "/webhooks/{doomed_hook_too}/delete", form={}
    ),
    ("GET", "/deliveries"): Call("deliveries:read"),
    ("GET", "/deliveries/{delivery_id}"): Call("deliveries:read", "/deliveries/{delivery}"),
    ("POST", "/deliveries/{delivery_id}/replay"): Call(
        "deliveries:replay", "/deliveries/{delivery}/replay", form={}
    ),
    ("POST", "/deliveries/replay"): Call("deliveries:replay", form={}),
    # live feeds: a customer's (its token is the key), the team feed (streams end soon here:
    # the world's `[feeds] stream_seconds` is short)
    ("POST", "/api/customers/{ref}/feed-token"): Call(
        "feed:token", "/api/customers/ann@example.com/feed-token"
    ),
    ("GET", "/api/customers/{ref}/feed"): Call(
        PUBLIC, "/api/customers/id:{customer}/feed?token={feed_token}"
    ),
    ("GET", "/api/feed"): Call("feed:read"),
    ("GET", "/api/feed/messages"): Call("feed:read"),
    ("GET", "/feed"): Call("feed:read"),
    # advocacy: the report, a person's ask, the public referral link
    ("GET", "/api/advocacy"): Call("advocacy:read"),
    ("GET", "/advocacy"): Call("advocacy:read"),
    ("POST", "/api/customers/{ref}/asks"): Call(
        "advocacy:ask", "/api/customers/ann@example.com/asks", {"channel": "phone"}
    ),
    ("GET", "/r/{code}"): Call(PUBLIC, "/r/{code}"),
    ("POST", "/customers/{customer_id}/asks"): Call(
        "advocacy:ask", "/customers/{customer}/asks", form={"channel": "phone"}
    ),
    # lifetime value: one customer's, the Value report and page
    ("GET", "/api/customers/{ref}/value"): Call(
        "customers:read", "/api/customers/ann@example.com/value"
    ),
    ("GET", "/api/value"): Call("value:read"),
    ("GET", "/value"): Call("value:read"),
    # offers: the catalogue, the report, a customer's offers and answers, the Offers page
    ("GET", "/api/offers"): Call("offers:read"),
    ("POST", "/api/offers"): Call(
        "offers:write", json={"key": "m-new", "name": "New", "kind": "content"}
    ),
    ("GET", "/api/offers/report"): Call("offers:read"),
    ("GET", "/api/offers/{key}"): Call("offers:read", "/api/offers/m-offer"),
    ("PATCH", "/api/offers/{key}"): Call("offers:write", "/api/offers/m-offer", {"value": 5}),
    ("POST", "/api/offers/{key}/deactivate"): Call(
        "offers:write", "/api/offers/m-offer-too/deactivate"
    ),
    ("GET", "/api/customers/{ref}/offers"): Call(
        "offers:serve", "/api/customers/ann@example.com/offers"
    ),
    ("POST", "/api/customers/{ref}/offers/responses"): Call(
        "offers:serve",
        "/api/customers/ann@example.com/offers/responses",
        {"response": "declined", "offer": "m-offer"},
    ),
    ("GET", "/offers"): Call("offers:read"),
    ("POST", "/offers"): Call(
        "offers:write", form={"key": "m-form", "name": "Form", "kind": "content"}
    ),
    ("POST", "/offers/{key}/deactivate"): Call(
        "offers:write", "/offers/m-offer-too/deactivate", form={}
    ),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application serves; mounts as ("MOUNT", prefix)."""
    contexts = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    found: set[tuple[str, str]] = set()
    for route in contexts:
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            found.add(("MOUNT", str(route.path)))
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(route.path)))
    return found


def expected(actor: str, call: Call, path: str) -> bool:
    """Whether `actor` may make `call` (pages are for people: keys count there as no one)."""
    if call.need == PUBLIC:
        return True
    if actor.startswith("key:"):
        scopes = (actor.removeprefix("key:"),)
        if call.need == TRACK:
            return scopes_can(scopes, "events:track")
        return path.startswith("/api/") and scopes_can(scopes, call.need)
    return call.need != TRACK and actor != "nobody" and role_can(actor, call.need)


@dataclass
class World:
    """The application with data to act on, and one client per actor."""

    app: FastAPI
    engine: Engine
    ids: dict[str, str]
    clients: dict[str, TestClient] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def sign_in(self, role: str) -> None:
        client = self.clients[role]
        client.cookies.clear()
        self.csrf[role] = _token(client.get("/login").text)
        answer = client.post("/login", data={"email": f"{role}@example.com",
                                             "password": PASSWORD, "csrf_token": self.csrf[role]},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303, answer.text
        self.csrf[role] = _token(client.get("/account").text)

    def call(self, actor: str, method: str, call: Call, path: str) -> Any:
        client, headers = self.clients[actor], {}
        path = path.replace("ACTOR_KEY", self.keys.get(actor, "not-a-key"))  # keys in the URL
        if actor.startswith("key:"):
            secret = self.keys[actor]
            headers["authorization"] = f"Bearer {secret}"
        if not path.startswith(("/api/", "/v1/")):
            headers["accept"] = "text/html"
        kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
        if call.form is not None:
            form = {name: value.format(**self.ids) for name, value in call.form.items()}
            kwargs["data"] = {**form, "csrf_token": self.csrf.get(actor, "")}
        elif call.json is not None:
            kwargs["json"] = call.json
        if method not in ("GET", "HEAD") and path.startswith("/api/") and actor in ROLES:
            headers["x-csrf-token"] = self.csrf[actor]
        if path.startswith("/v1/") and actor.startswith("key:"):
            del headers["authorization"]
            kwargs["auth"] = (self.keys[actor], "")
        if path.startswith(("/static/", "/vendor/")):
            method = "HEAD"
        return client.request(method, path, **kwargs)


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    now = datetime.now(UTC)
    ingest(engine, [EventIn(message_id="m-1", kind="track", type="purchase", value=20.0,
                            occurred_at=now - timedelta(days=3), channel="store",
                            identities=[("email", "ann@example.com")])])  # fmt: skip
    for n, email in enumerate(("gone@example.com", "gone.too@example.com")):  # to be erased
        ingest(engine, [EventIn(message_id=f"m-gone-{n}", kind="track", type="page_view",
                                occurred_at=now - timedelta(days=2),
                                identities=[("email", email)])])  # fmt: skip
    short = FeedSettings(stream_seconds=0.2, poll_ms=50)  # a stream answers, then ends
    app = create_app(settings.model_copy(update={"feeds": short}))
    ids: dict[str, str] = {}
    keys: dict[str, str] = {}

    def work(conn: Any) -> None:
        for role in ROLES:
            auth.create_user(conn, email=f"{role}@example.com", password=PASSWORD, role=role)
        ids["victim"] = str(auth.create_user(conn, email="victim@example.com",
                                             password=PASSWORD, role="agent"))  # fmt: skip
        for scope in KEY_SCOPES:
            keys[f"key:{scope}"] = auth.create_key(conn, name=scope, scopes=[scope])[1]
        ids["victim_key"] = str(auth.create_key(conn, name="victim", scopes=["read"])[0].id)
        ids["victim_key_too"] = str(auth.create_key(conn, name="victim 2", scopes=["read"])[0].id)
        for name in ("segment", "doomed", "doomed_too"):
            made = segments.create(conn, settings.live, name=name, description=None,
                                   definition=DEFINITION, now=now)  # fmt: skip
            ids[name] = str(made["id"])
        for name in ("hook", "doomed_hook", "doomed_hook_too"):
            made = webhooks.create(conn, name=name, url="https://8.8.8.8/hook",
                                   settings=settings.webhooks, now=now)  # fmt: skip
            ids[name] = str(made["id"])
        outbox.enqueue(conn, [Action("nonesuch", "matrix-dead")], now=now)
        ids["delivery"] = str(conn.execute(text("SELECT id FROM outbox")).scalar_one())
        conn.execute(text("UPDATE outbox SET status = 'dead'"))
        found = conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars().all()
        ids["customer"], ids["gone"], ids["gone_too"] = (str(i) for i in found)
        ids["code"] = advocacy.code_for(conn, customer_id=int(ids["customer"]), now=now)
        ids["team"] = str(cases_teams.create(conn, name="Matrix", now=now)["id"])
        made, _ = cases.create(conn, settings, customer_id=int(ids["customer"]), reason="Matrix",
                               source_key="matrix", team="Matrix", now=now)  # fmt: skip
        ids["case"] = str(made["id"])
        for key in ("m-offer", "m-offer-too"):
            offer_service.create(conn, OfferIn(key=key, name=key, kind="content"), now=now)

    run_write(engine, work)
    survey = make_survey(engine, settings, now)
    ids["survey"] = str(survey["id"])

    def invite(conn: Any) -> int:
        made = surveys.invite(conn, survey, [int(ids["customer"])], settings=settings.surveys,
                              now=now)  # fmt: skip
        return made.invited[0].invitation_id

    ids["token"] = links.token_for(app.state.secret, run_write(engine, invite))
    ids["pref"] = preference_links.token_for(app.state.secret, int(ids["customer"]))
    ids["pref_form"] = preference_links.form_token(app.state.secret, ids["pref"])
    ids["feed_token"] = feeds.token_for(app.state.secret, int(ids["customer"]), now=now).token
    with TestClient(app) as first:
        built = World(app, engine, ids, keys=keys)
        for actor in ACTORS:
            built.clients[actor] = first if actor == ACTORS[0] else TestClient(app)
        for actor in ACTORS:
            if actor in ROLES:
                built.sign_in(actor)
            else:  # no one signed in: the sign-in form's own CSRF token, for the public forms
                built.csrf[actor] = _token(built.clients[actor].get("/login").text)
        yield built


def test_every_route_has_an_entry(settings: Settings, engine: Engine) -> None:
    app = create_app(settings)
    served = app_routes(app)
    app.state.engine.dispose()
    assert sorted(served - set(ROUTES)) == [], "add these routes to ROUTES with what they need"
    assert sorted(set(ROUTES) - served) == [], "ROUTES names routes the application lacks"
    needs = {c.need for c in ROUTES.values()} - {PUBLIC, TRACK}
    assert needs <= set(PERMISSIONS)


def _denied(answer: Any, call: Call) -> str | None:
    """Why `answer` is not a proper refusal of `call`, or None when it is one."""
    status = answer.status_code
    if status == 303 and answer.headers["location"].startswith("/login?next="):
        return None
    if status == 401:
        return None
    if status != 403:
        return f"answered {status}"
    body = html.unescape(answer.text)
    if call.need == TRACK:
        return None if "lacks the 'track' scope" in body else f"403 without the scope: {body}"
    if f"({call.need})" in body and describe(call.need) in body:
        return None
    return f"403 that does not name {call.need}: {body[:300]}"


def run_matrix(world: World, routes: dict[tuple[str, str], Call]) -> list[str]:
    wrong: list[str] = []
    for (method, template), call in routes.items():
        path = (call.path or template).format(**world.ids)
        for actor in ACTORS:
            answer = world.call(actor, "GET" if method == "MOUNT" else method, call, path)
            allowed = expected(actor, call, path)
            redirected = answer.status_code == 303 and answer.headers.get(
                "location", ""
            ).startswith("/login?next=")  # the sign-in form, then back (signing out: /login)
            if allowed and (answer.status_code in (401, 403) or redirected):
                wrong.append(f"{actor} {method} {path}: refused ({answer.status_code}) "
                             f"{answer.text[:200]}")  # fmt: skip
            elif not allowed and actor in ROLES and call.instead is not None:
                if answer.status_code != 303 or answer.headers["location"] != call.instead:
                    wrong.append(f"{actor} {method} {path}: not sent to {call.instead} "
                                 f"({answer.status_code})")  # fmt: skip
            elif not allowed and (why := _denied(answer, call)) is not None:
                wrong.append(f"{actor} {method} {path}: let through ({why})")
            if call.ends_session and actor in ROLES:
                world.sign_in(actor)
    return wrong


def test_the_matrix_on_every_route(world: World, database_url: str) -> None:
    if database_url.startswith("postgresql"):  # a representative subset: one route per need
        chosen: dict[str, tuple[tuple[str, str], Call]] = {}
        for route, call in ROUTES.items():
            chosen.setdefault(f"{call.need}:{route[1].startswith('/api/')}", (route, call))
        routes = dict(chosen.values())
    else:
        routes = ROUTES
    wrong = run_matrix(world, routes)
    assert wrong == [], "\n".join(wrong)


def test_a_forbidden_page_is_a_friendly_page(world: World) -> None:
    answer = world.call("agent", "GET", ROUTES[("GET", "/segments")], "/segments")
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    page = html.unescape(answer.text)
    assert "Not allowed" in page and 'id="forbidden"' in page
    assert "Your role (agent) may not see segments and their members (segments:read)." in page
    assert 'href="/customers"' in page and 'href="/segments"' not in page  # the nav it may use
    api = world.call("agent", "GET", ROUTES[("GET", "/api/segments")], "/api/segments")
    assert api.status_code == 403
    assert api.json()["message"] == (
        "Your role (agent) may not see segments and their members (segments:read)."
    )
