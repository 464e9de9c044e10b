"""The demo's mail catcher: a local SMTP server (aiosmtpd) that keeps every message the demo
sends in a Maildir folder, so the closed loop's emails (a survey's invitation, "your case is
resolved") can be read without a mail server of one's own.

`hxpulse demo` starts it only when `[smtp] host` is not configured, on 127.0.0.1 and a free
port, for as long as it serves; configured settings are left alone.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from hxpulse.config import Settings

FOLDER = "hxpulse-demo-mail"  # beside the demo's database, in the working folder


@dataclass
class Catcher:
    """A running catcher: where it listens and the Maildir it writes."""

    controller: Controller
    port: int
    folder: Path

    def stop(self) -> None:
        self.controller.stop()

    def count(self) -> int:
        """How many messages it has kept (new and read)."""
        return sum(1 for part in ("new", "cur") for _ in (self.folder / part).glob("*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(folder: Path) -> Catcher:
    """Listen on 127.0.0.1 and keep each message received as a file of `folder` (a Maildir:
    `new/`, read by any mail reader or as plain text)."""
    for part in ("new", "cur", "tmp"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    controller = Controller(Mailbox(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return Catcher(controller, port, folder)


def for_demo(settings: Settings, folder: Path) -> tuple[Settings, Catcher | None]:
    """Without a configured `[smtp] host`: a catcher started on `folder` and `settings`
    sending mail to it; otherwise `settings` as they are and no catcher."""
    if settings.smtp.host is not None:
        return settings, None
    catcher = start(folder)
    smtp = settings.smtp.model_copy(update={"host": "127.0.0.1", "port": catcher.port,
                                            "username": None, "starttls": False})  # fmt: skip
    return settings.model_copy(update={"smtp": smtp}), catcher
