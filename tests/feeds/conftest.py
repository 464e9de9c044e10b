"""The feed tests' fixtures: a real SMTP server, and a real `hxpulse serve` for the streams."""

from __future__ import annotations

from tests.surveys.smtp import smtp_server  # noqa: F401 - the fixture, shared with surveys
