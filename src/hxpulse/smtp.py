"""Sending email over SMTP (the `[smtp]` settings): survey invitations and actions' emails."""

from __future__ import annotations

import smtplib
from collections.abc import Hashable, Sequence
from email import policy
from email.message import EmailMessage
from typing import TypeVar

from hxpulse.config import SmtpSettings

# Lines up to RFC 5322's limit: with the default 78, a List-Unsubscribe URL (one long word) is
# folded into RFC 2047 encoded words, which mail providers do not read as a URL.
HEADERS_UNFOLDED = policy.SMTP.clone(max_line_length=998)
K = TypeVar("K", bound=Hashable)


def send(smtp: SmtpSettings, mails: Sequence[tuple[K, EmailMessage]]) -> dict[K, str]:
    """Send each (key, message) on one connection; returns {key: reason} for those that failed.
    A failure to connect fails them all."""
    failed: dict[K, str] = {}
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
