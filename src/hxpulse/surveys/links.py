"""Signed, expiring, single-use survey links: `/s/{token}`.

The token signs only the invitation's id (`web.signed`, with a salt of its own, so a session
cookie can never pass for a survey link). Expiry is checked against the signature's time;
single use against the invitation's `answered_at`.
"""

from __future__ import annotations

from hxpulse.web import signed
from hxpulse.web.signed import LinkError as LinkError
from hxpulse.web.signed import Problem as Problem

SALT = "hxpulse.survey-invitation"


def token_for(secret: str, invitation_id: int) -> str:
    return signed.token_for(secret, SALT, invitation_id)


def read(secret: str, token: str, *, max_age_seconds: int) -> int:
    """The invitation id `token` was signed for; raises LinkError("forged" | "expired")."""
    return signed.read(secret, SALT, token, max_age_seconds=max_age_seconds)


def url_for(public_url: str, secret: str, invitation_id: int) -> str:
    return f"{public_url.rstrip('/')}/s/{token_for(secret, invitation_id)}"
