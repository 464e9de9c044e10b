"""Signed links to a customer's preference centre: `/p/{token}`.

The token signs only the customer's id, with the server's secret and a salt of its own (apart
from session cookies and survey links: neither can pass for the other). It expires after
`[privacy] link_days`, counted from the signature's time. Its forms carry a second value
derived from the token with another salt, so a form cannot be posted without first loading
the page it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac

from hxpulse.web import signed
from hxpulse.web.signed import LinkError as LinkError
from hxpulse.web.signed import Problem as Problem

SALT = "hxpulse.preference-centre"
FORM_SALT = b"hxpulse.preference-centre.form"


def token_for(secret: str, customer_id: int) -> str:
    return signed.token_for(secret, SALT, customer_id)


def read(secret: str, token: str, *, max_age_seconds: int) -> int:
    """The customer id `token` was signed for; raises LinkError("forged" | "expired")."""
    return signed.read(secret, SALT, token, max_age_seconds=max_age_seconds)


def url_for(public_url: str, secret: str, customer_id: int) -> str:
    return f"{public_url.rstrip('/')}/p/{token_for(secret, customer_id)}"


def unsubscribe_url(public_url: str, secret: str, customer_id: int, purpose: str) -> str:
    """Where an email's List-Unsubscribe header points: the preference centre's page that says
    no to `purpose` (one click by RFC 8058, or a button in the browser)."""
    return f"{url_for(public_url, secret, customer_id)}/unsubscribe/{purpose}"


def form_token(secret: str, token: str) -> str:
    """The hidden value the preference centre's forms carry for the link `token`."""
    return hmac.new(secret.encode() + FORM_SALT, token.encode(), hashlib.sha256).hexdigest()[:32]


def check_form(secret: str, token: str, submitted: str) -> bool:
    return hmac.compare_digest(form_token(secret, token), submitted)
