"""Which webhook URLs may be called: https only in production, and never a
loopback, private, link-local, reserved or cloud-metadata address unless
DISPUTES_WEBHOOK_ALLOW_PRIVATE. Checked at creation and again before each
delivery (a name may resolve elsewhere by then: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeUrl(Exception):
    """A webhook URL this deployment refuses to call."""


def check_url(url: str, *, production: bool, allow_private: bool) -> None:
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl(f"the URL's scheme must be {' or '.join(allowed)}")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL must not carry credentials")
    if allow_private:
        return
    for address in resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        if address in METADATA or not address.is_global:
            raise UnsafeUrl(f"{parts.hostname} resolves to a non-public address ({address})")


def resolve(host: str, port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise UnsafeUrl(f"{host} does not resolve ({e})") from None
    return {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
