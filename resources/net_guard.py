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
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from resources.deadline import watch_connection

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


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv6 one (mapped, 6to4, Teredo, NAT64, IPv4-compatible), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64 or (int(ip) >> 32 == 0 and int(ip) > 0xFFFF):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not (embedded.is_global and not embedded.is_multicast):
            return False
        if embedded is not None:
            return True
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class MediaUrlPolicy:
    station_base_url: str
    media_hosts: frozenset[str] = field(default_factory=frozenset)
    resolver: Resolver = resolve_host
    # Other origins of the station itself: the regional API host its login names (SEMS-like dialects).
    extra_station_origins: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)

    @classmethod
    def for_station(cls, base_url: str, media_hosts: Iterable[str] = (), resolver: Resolver = resolve_host):
        return cls(base_url, frozenset(h.strip().lower() for h in media_hosts if h.strip()), resolver)

    def with_station_origin(self, url: str) -> MediaUrlPolicy:
        return replace(self, extra_station_origins=self.extra_station_origins | {origin_of(url)})

    def is_station_host(self, url: str) -> bool:
        """Same scheme, host and port as one of the station's origins: only there does the token go."""
        origin = origin_of(url)
        return origin == origin_of(self.station_base_url) or origin in self.extra_station_origins

    def check_peer(self, host: str, port: int, address: str) -> None:
        """Connect-time check of the address a connection really reached, against DNS rebinding:
        a name that resolved to a public address for `check` and to a private one for the connect."""
        host = host.strip("[]").lower()
        if self._is_station_machine(host) or self._listed(host, port) or is_public_address(address):
            return
        raise ForbiddenTarget(
            f"host {host} connected to {address}, {_address_kind(address)} (its DNS answer changed after the check)"
        )

    def _is_station_machine(self, host: str) -> bool:
        # For SSRF the station's own host name counts at any port: it is the station's machine, not ours.
        # (The token is stricter: it goes to the exact origin only, see is_station_host.)
        names = {origin_of(self.station_base_url)[1]} | {o[1] for o in self.extra_station_origins}
        return host in names

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
        if self._is_station_machine(host) or self._listed(host, port):
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
    if isinstance(ip, ipaddress.IPv6Address) and _embedded_ipv4(ip) is not None:
        ip = _embedded_ipv4(ip)
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


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections check the peer address they reached (see check_peer)."""

    def __init__(self, policy: Callable[[], MediaUrlPolicy], **kwargs):
        self._policy = policy  # read at every connect: the policy grows when a login names a regional host
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        current_policy = self._policy

        def guarded(base: type) -> type:
            class GuardedConnection(base):
                def _new_conn(self):
                    sock = super()._new_conn()
                    try:
                        current_policy().check_peer(self.host, self.port, sock.getpeername()[0])
                    except ForbiddenTarget:
                        sock.close()
                        raise
                    return sock

                def request(self, *args, **kwargs):
                    # A total deadline of this thread (resources.deadline) may cut this exchange.
                    watch_connection(self.sock)
                    try:
                        return super().request(*args, **kwargs)
                    finally:
                        watch_connection(self.sock)

            return GuardedConnection

        class GuardedHTTPPool(HTTPConnectionPool):
            ConnectionCls = guarded(HTTPConnection)

        class GuardedHTTPSPool(HTTPSConnectionPool):
            ConnectionCls = guarded(HTTPSConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
