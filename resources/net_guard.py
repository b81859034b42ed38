"""SSRF policy for media URLs, which come from outside the group.

A media URL may point at the station's own host, at a host listed in the station's
`media_hosts`, or at any host whose every address is public. Loopback, private, link-local
(incl. the cloud metadata address 169.254.169.254), shared, reserved and multicast targets
are refused, whether written as an address or reached through a DNS name. The check runs
for the first URL and again for every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


class ForbiddenTarget(Exception):
    """A URL the policy refuses; the message says why (never with a secret in it)."""


def resolve_host(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _effective_port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, lower-case host, port) - what "the same host" means for tokens and policy."""
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), _effective_port(parts.scheme.lower(), parts.port)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class MediaUrlPolicy:
    station_base_url: str
    media_hosts: frozenset[str] = field(default_factory=frozenset)
    resolver: Resolver = resolve_host

    @classmethod
    def for_station(cls, base_url: str, media_hosts: Iterable[str] = (), resolver: Resolver = resolve_host):
        return cls(base_url, frozenset(h.strip().lower() for h in media_hosts if h.strip()), resolver)

    def is_station_host(self, url: str) -> bool:
        return origin_of(url)[1:] == origin_of(self.station_base_url)[1:]

    def _listed(self, host: str, port: int) -> bool:
        return host in self.media_hosts or f"{host}:{port}" in self.media_hosts

    def check(self, url: str) -> None:
        """Raise ForbiddenTarget unless the URL may be fetched."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ForbiddenTarget(f"scheme {scheme or '(none)'!r} is not http or https")
        if parts.username is not None or parts.password is not None:
            raise ForbiddenTarget("URL carries credentials")
        host = (parts.hostname or "").lower()
        if not host:
            raise ForbiddenTarget("URL has no host")
        port = _effective_port(scheme, parts.port)
        if self.is_station_host(url) or self._listed(host, port):
            return
        try:
            addresses = [host] if _is_ip_literal(host) else self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise ForbiddenTarget(f"host {host} cannot be resolved ({exc.__class__.__name__})") from exc
        if not addresses:
            raise ForbiddenTarget(f"host {host} has no address")
        for address in addresses:
            if not is_public_address(address):
                kind = _address_kind(address)
                via = " is" if address == host else f" resolves to {address}, which is"
                raise ForbiddenTarget(f"host {host}{via} {kind} and not the station host or one of its media_hosts")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _address_kind(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attr, label in (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attr):
            return label
    return "not a public address"
