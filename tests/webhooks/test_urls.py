"""Where webhooks may go: http(s) only, never link-local or metadata, private on request."""

from __future__ import annotations

import pytest

from hxpulse.errors import Invalid
from hxpulse.webhooks.urls import check_url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http:///nohost", "no host"),
        ("http://user:pw@8.8.8.8/", "credentials"),
        ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://100.100.100.200/", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata host"),
        ("http://169.254.10.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://0.0.0.0/", "unicast"),
        ("http://127.0.0.1:9/", "private or loopback"),
        ("http://10.1.2.3/", "private or loopback"),
        ("http://192.168.1.1/", "private or loopback"),
        ("http://[::1]/", "private or loopback"),
        ("http://localhost/", "private or loopback"),
        ("http://100.64.0.1/", "private or loopback"),
        ("http://nowhere.invalid/", "does not resolve"),
    ],
)
def test_refused(url: str, why: str) -> None:
    with pytest.raises(Invalid, match=why):
        check_url(url, allow_private=False)


def test_public_addresses_pass() -> None:
    assert check_url(" https://8.8.8.8/hook ", allow_private=False) == "https://8.8.8.8/hook"
    assert check_url("http://[2001:4860::8888]:8080/", allow_private=False)


def test_private_networks_when_allowed_but_never_link_local_or_metadata() -> None:
    assert check_url("http://127.0.0.1:9/hook", allow_private=True)
    assert check_url("http://10.0.0.5/", allow_private=True)
    assert check_url("http://localhost:8080/", allow_private=True)
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://100.100.100.200/"):
        with pytest.raises(Invalid):
            check_url(url, allow_private=True)
