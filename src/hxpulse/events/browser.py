"""What a website's tracking SDK needs besides the tracking calls: the settings documents that
Segment's analytics.js and RudderStack's JavaScript SDK load at start, pointing them back at
this server, and the check that the page's origin is one its write key accepts.

The calls themselves go to the tracking routes of `events.api` (analytics.js posts to the
short paths `/v1/t`, `/v1/p`, … which are the same routes); CORS for these paths is
`web.cors.TrackingCORS`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from hxpulse.auth.service import KeyInfo
from hxpulse.config import Settings
from hxpulse.deps import SettingsDep, basic_user, bearer_token, lookup_key, require_scope
from hxpulse.errors import Forbidden, Unauthorized
from hxpulse.events.schemas import RudderSourceConfig, SegmentSettings

# analytics.js posts each kind of call to the path of its first letter, batches to /v1/b
SHORT_PATHS = {"t": "track", "i": "identify", "a": "alias", "p": "page", "s": "screen",
               "g": "group"}  # fmt: skip
CORS_PREFIXES = ("/v1/", "/sourceConfig")


async def allowed_origin(request: Request) -> None:
    """Refuse a call from a web page (it carries an Origin header) unless its write key lists
    that origin. Calls without Origin (servers, mobile and server SDKs) are left to the route
    at once, on the event loop; the key check may read the database, so it runs in a thread."""
    origin = request.headers.get("origin")
    if origin is not None:
        await run_in_threadpool(_check_origin, request, origin)


def _check_origin(request: Request, origin: str) -> None:
    secret = (basic_user(request) or bearer_token(request)
              or request.path_params.get("write_key")
              or request.query_params.get("writeKey"))  # fmt: skip
    if not secret:
        raise Unauthorized("a call from a web page sends its write key as the HTTP Basic user")
    info = lookup_key(request, secret)
    if info is not None and not info.accepts_origin(origin):
        raise Forbidden(
            f"the write key does not accept calls from the origin {origin[:200]!r}; list the"
            " site with `hxpulse keys create --scope track --origin ORIGIN`"
        )


router = APIRouter(tags=["tracking (browser)"], dependencies=[Depends(allowed_origin)])


def _write_key(request: Request, write_key: str) -> KeyInfo:
    return require_scope(request, write_key, "track")


def public_base(request: Request, settings: Settings) -> str:
    """Where browsers reach this server: `public_url` when it is set, else the address this
    request came to (the SDK fetched its settings from it, so it can reach it)."""
    if "public_url" in settings.model_fields_set:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


@router.get("/v1/projects/{write_key}/settings", response_model=SegmentSettings)
def segment_settings(write_key: str, request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The settings document analytics.js loads at start (`cdnURL` pointing at this server):
    only its Segment.io destination, sending to this server's tracking API."""
    _write_key(request, write_key)
    protocol, _, host = public_base(request, settings).partition("://")
    return {
        "integrations": {"Segment.io": {
            "apiKey": write_key, "apiHost": f"{host}/v1", "protocol": protocol,
            "addBundledMetadata": True, "unbundledIntegrations": [], "maybeBundledConfigIds": {},
        }},
        "plan": {}, "enabledMiddleware": {}, "remotePlugins": [],
        "legacyVideoPluginsEnabled": False,
        "metrics": {"sampleRate": 0},  # no performance metrics sent anywhere
    }  # fmt: skip


@router.get("/sourceConfig", response_model=RudderSourceConfig)
@router.get("/sourceConfig/", response_model=RudderSourceConfig, include_in_schema=False)
def rudderstack_source_config(request: Request) -> dict[str, Any]:
    """The source configuration RudderStack's JavaScript SDK loads at start (`configUrl`
    pointing at this server): no device-mode destinations, no error or metrics reporting."""
    secret = basic_user(request) or request.query_params.get("writeKey") or ""
    _write_key(request, secret)
    off = {"enabled": False}
    return {
        "isHosted": False,
        "source": {
            "id": "hxpulse", "name": "HX Pulse", "writeKey": secret, "workspaceId": "hxpulse",
            "enabled": True, "destinations": [],
            "config": {"statsCollection": {"errors": off, "metrics": off}},
        },
    }  # fmt: skip
