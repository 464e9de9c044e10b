"""Where a webhook may be sent: http or https, and never to link-local or cloud-metadata
addresses; private and loopback ranges only when `webhooks.allow_private_networks` is on.

The host is resolved and every address it resolves to is checked, when an endpoint is saved
and again before each delivery (a name can point elsewhere later: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from hxpulse.errors import Invalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why a webhook may not go to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if any(address in net for net in LINK_LOCAL) or address.is_link_local:
        return "a link-local address"
    if address.is_multicast or address.is_unspecified:
        return "not a unicast address"
    if address.is_private or address.is_loopback or address in SHARED:
        if allow_private:
            return None
        return "a private or loopback address (set webhooks.allow_private_networks to allow it)"
    if address.is_reserved:
        return "a reserved address"
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (a literal address is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise Invalid(f"url: the host {host!r} does not resolve ({exc})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def check_url(url: str, *, allow_private: bool, resolve_host: bool = True) -> str:
    """Return `url` if a webhook may be sent there, else raise Invalid naming why."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Invalid(f"url: {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise Invalid(f"url: {url!r} must start with http:// or https://")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Invalid(f"url: {url!r} has no host")
    if parts.username or parts.password:
        raise Invalid("url: credentials in the URL are not allowed (the signature authenticates)")
    if host in METADATA_HOSTS:
        raise Invalid(f"url: {host!r} is a cloud metadata host")
    if resolve_host:
        for address in resolve(host, port):
            why = refusal(address, allow_private=allow_private)
            if why is not None:
                raise Invalid(f"url: {host!r} resolves to {address}, {why}")
    return url.strip()
