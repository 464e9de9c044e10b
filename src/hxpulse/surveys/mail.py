"""Invitation emails over SMTP (the `[smtp]` settings)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from hxpulse.smtp import HEADERS_UNFOLDED
from hxpulse.smtp import send as send

__all__ = ["HEADERS_UNFOLDED", "message", "send"]


def message(
    sender: str, to: str, survey: dict[str, Any], link: str, brand: str, preferences: str
) -> EmailMessage:
    """The invitation email; `preferences` is the customer's preference-centre link, in the
    text and (its page for saying no to surveys) in the List-Unsubscribe header, with the
    one-click unsubscribe of RFC 8058."""
    mail = EmailMessage(policy=HEADERS_UNFOLDED)
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = f"{brand}: one question, one minute"
    mail["List-Unsubscribe"] = f"<{preferences}/unsubscribe/surveys>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(
        f"{survey['question']}\n\nAnswer here (one click, no login):\n{link}\n\n"
        "The link works once and expires in a few days. Thank you for telling us.\n\n"
        f"See what {brand} holds about you, choose what we may send you, or ask for your data"
        f" or its erasure:\n{preferences}\n"
    )
    return mail
