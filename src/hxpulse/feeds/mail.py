"""Action emails: one Jinja template per action in `templates/`, rendered to a plain-text mail.

A template starts with its headers, one per line, then a blank line and the body:

    Subject: {{ brand }}: your case is resolved
    Purpose: service

`Purpose` says what consent the mail needs: `service` (about something the customer asked for
or is owed: a case's reply or resolution) goes unless the customer refused email altogether;
`marketing` (offers, news) goes only with `email_marketing` granted (see privacy/consent.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, cast

from jinja2 import Environment, FileSystemLoader, TemplateError

from hxpulse.smtp import HEADERS_UNFOLDED

TEMPLATES = Path(__file__).parent / "templates"
PURPOSES = ("service", "marketing")
Purpose = Literal["service", "marketing"]
_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, keep_trailing_newline=True
)  # plain text: nothing is HTML


class TemplateProblem(Exception):
    """A template that does not exist or does not render: retrying cannot help."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    purpose: Purpose


def names() -> list[str]:
    """The templates there are, by name."""
    return sorted(p.stem for p in TEMPLATES.glob("*.txt"))


def render(name: str, context: dict[str, Any], *, subject: str | None = None) -> Rendered:
    """Render template `name` with `context`; `subject` replaces the template's own."""
    known = names()
    if name not in known:
        raise TemplateProblem(f"unknown email template {name[:60]!r}: use one of "
                              f"{', '.join(known)}")  # fmt: skip
    try:
        text = _env.get_template(f"{name}.txt").render(**context)
    except TemplateError as exc:
        raise TemplateProblem(f"email template {name!r} does not render: {exc}") from None
    head, _, body = text.partition("\n\n")
    headers = dict(line.partition(":")[::2] for line in head.splitlines())
    purpose = headers.get("Purpose", "service").strip()
    if purpose not in PURPOSES:
        raise TemplateProblem(f"email template {name!r}: Purpose is service or marketing")
    chosen = subject if subject else headers.get("Subject", "")
    return Rendered(" ".join(chosen.split())[:200], body.strip() + "\n", cast(Purpose, purpose))


def compose(
    *, sender: str, to: str, rendered: Rendered, preferences: str | None, key: str
) -> EmailMessage:
    """The email for one action. `key` (the outbox key) fixes its Message-ID, so that a mail
    sent twice by a retried delivery is recognisable as one. `preferences` is the customer's
    preference-centre link, in the text and, for marketing, in List-Unsubscribe (RFC 8058)."""
    mail = EmailMessage(policy=HEADERS_UNFOLDED)
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = rendered.subject
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@hxpulse.invalid>"
    body = rendered.body
    if preferences:
        body += f"\nChoose what we may send you, or see what we hold about you:\n{preferences}\n"
        if rendered.purpose == "marketing":
            mail["List-Unsubscribe"] = f"<{preferences}/unsubscribe/email_marketing>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(body)
    return mail
