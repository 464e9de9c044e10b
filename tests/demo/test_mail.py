"""The demo's mail catcher: what the product sends arrives as a file of its Maildir folder."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

from hxpulse import smtp
from hxpulse.config import Settings, SmtpSettings
from hxpulse.demo import mail


def test_the_catcher_keeps_what_the_product_sends(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert settings.smtp.host is None  # what the demo starts it for
    config, catcher = mail.for_demo(settings, tmp_path / "mail")
    assert catcher is not None
    try:
        assert (config.smtp.host, config.smtp.port) == ("127.0.0.1", catcher.port)
        message = EmailMessage()
        message["From"], message["To"] = config.smtp.sender, "ana@example.com"
        message["Subject"] = "Your case is resolved"
        message.set_content("We fixed the delivery. Thank you for telling us.")
        assert smtp.send(config.smtp, [("case", message)]) == {}
    finally:
        catcher.stop()
    assert catcher.count() == 1
    (kept,) = mailbox.Maildir(tmp_path / "mail").values()
    assert kept["Subject"] == "Your case is resolved" and kept["To"] == "ana@example.com"
    assert "We fixed the delivery" in kept.get_payload()


def test_a_configured_server_is_left_alone(tmp_path: Path) -> None:
    settings = Settings(smtp=SmtpSettings(host="mail.example.com", port=2525))
    config, catcher = mail.for_demo(settings, tmp_path / "mail")
    assert catcher is None and config.smtp == settings.smtp
    assert not (tmp_path / "mail").exists()
