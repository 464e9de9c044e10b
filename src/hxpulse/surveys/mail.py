"""Invitation emails over SMTP (the `[smtp]` settings)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from typing import Any

from hxpulse.config import SmtpSettings

# Lines up to RFC 5322's limit: with the default 78, a List-Unsubscribe URL (one long word) is
# folded into RFC 2047 encoded words, which mail providers do not read as a URL.
HEADERS_UNFOLDED = policy.SMTP.clone(max_line_length=998)


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


def send(smtp: SmtpSettings, mails: Sequence[tuple[int, EmailMessage]]) -> dict[int, str]:
    """Send each (key, message) on one connection; returns {key: reason} for those that failed.
    A failure to connect fails them all."""
    failed: dict[int, str] = {}
    if not mails:
        return failed
    if smtp.host is None:
        return {key: "no SMTP server is configured" for key, _ in mails}
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            for key, mail in mails:
                try:
                    server.send_message(mail)
                except smtplib.SMTPException as exc:
                    failed[key] = f"the mail server refused it: {exc}"
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"could not reach the mail server {smtp.host}:{smtp.port}: {exc}"
        return {key: reason for key, _ in mails}
    return failed
