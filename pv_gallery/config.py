"""How the gallery is reached and who may look: the settings it starts with, checked before it serves.

Access: a shared password (or token) from PV_GALLERY_PASSWORD, at least MIN_PASSWORD_LENGTH
characters; or, for groups with single sign-on, a header set by a trusted reverse proxy
(PV_GALLERY_TRUSTED_USER_HEADER). Which Host names it answers to and which proxies may say who the
client is are part of the configuration too (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import zoneinfo
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from resources.settings import env_name, settings

MIN_PASSWORD_LENGTH = 12
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names compared against, not bound


class GalleryConfigError(Exception):
    """The gallery cannot start as configured; the message says which variable to set."""


def host_of(url: str) -> str:
    """The host of an address like https://gallery.example.cn:8443/pv, lower case, without brackets."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    if not host:
        raise GalleryConfigError(f"{env_name('gallery_public_url')}={url!r} names no host")
    return host.lower()


def parse_proxies(value: str | None) -> tuple[str, ...]:
    """PV_GALLERY_TRUSTED_PROXIES: addresses or networks (CIDR) of the reverse proxies, comma-separated."""
    proxies = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item == "*":
            raise GalleryConfigError(
                f"{env_name('gallery_trusted_proxies')}='*' would let every client choose its own address "
                "(X-Forwarded-For): list the proxies' addresses"
            )
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise GalleryConfigError(
                f"{env_name('gallery_trusted_proxies')}: {item!r} is not an IP address or network (e.g. 10.0.0.5, "
                "10.0.0.0/24)"
            ) from None
    return tuple(proxies)


def check_tiles(template: str) -> str | None:
    """A tile URL template as the map needs it, or a GalleryConfigError naming the setting and the fix."""
    template = template.strip()
    if not template:
        return None
    parts = urlsplit(template.replace("{s}", "a"))
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in template]
    if parts.scheme not in ("http", "https") or not parts.hostname or missing or parts.fragment:
        raise GalleryConfigError(
            f"{env_name('gallery_map_tiles')}={template!r} is not a tile URL template: an http(s) address with "
            "{z}, {x} and {y} (e.g. https://tiles.example.cn/{z}/{x}/{y}.png); leave it empty for no base map"
        )
    return template


@dataclass(frozen=True)
class GalleryConfig:
    password: str | None = None
    trusted_user_header: str | None = None
    session_secret: str = ""
    secure_cookie: bool = False
    session_max_age_s: int = 12 * 3600
    max_failed_logins: int = 5  # per client address, or per known browser, in the window
    max_failed_logins_account: int = 50  # from browsers never signed in before, over all addresses
    failed_login_window_s: float = 300.0
    trusted_proxies: tuple[str, ...] = ()
    # Host names the gallery answers to, besides the loopback names: the public address's host.
    allowed_hosts: tuple[str, ...] = ()
    time_zone: str = "Asia/Shanghai"  # the group's: pages show every time in it, with its name
    stale_after_h: float = 72.0  # a station's last success older than this is flagged stale
    dagster_ui_url: str | None = None  # where a failed run's page is, for the engineer behind the manager
    map_tiles: str | None = None  # the dashboard map's tile URL template (an approved service); None: no base map
    map_attribution: str = ""

    @property
    def map_tile_origin(self) -> str | None:
        """The tile service's origin, which the CSP lets images come from; None without a tile service. A host
        with Leaflet's `{s}` (servers a, b, c) is allowed as `*.` its parent domain."""
        if not self.map_tiles:
            return None
        parts = urlsplit(self.map_tiles)
        netloc = parts.netloc
        if "{s}" in netloc:
            netloc = "*." + netloc.split(".", 1)[1]
        return f"{parts.scheme}://{netloc}"

    def run_url(self, run_id: str | None) -> str | None:
        """The Dagster UI's page of a run, or None when no UI address is configured."""
        if not run_id or not self.dagster_ui_url:
            return None
        return f"{self.dagster_ui_url}/runs/{quote(run_id, safe='')}"

    def __post_init__(self):
        if not self.password and not self.trusted_user_header:
            raise GalleryConfigError(
                "the gallery needs a login: set PV_GALLERY_PASSWORD (a password or long token), "
                "or PV_GALLERY_TRUSTED_USER_HEADER when a trusted reverse proxy signs users in"
            )
        if self.password is not None and len(self.password) < MIN_PASSWORD_LENGTH:
            raise GalleryConfigError(
                f"PV_GALLERY_PASSWORD is {len(self.password)} characters; the gallery needs at least "
                f"{MIN_PASSWORD_LENGTH} (a passphrase, or one made by "
                "`python -c 'import secrets; print(secrets.token_urlsafe(16))'`)"
            )
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise GalleryConfigError(
                f"{env_name('gallery_time_zone')}={self.time_zone!r} is not a time zone name (e.g. Asia/Shanghai)"
            ) from None
        if not self.session_secret:
            # One per process unless configured: installation links then change when the gallery restarts.
            object.__setattr__(self, "session_secret", secrets.token_urlsafe(32))
        if self.dagster_ui_url is not None:
            ui = self.dagster_ui_url.strip().rstrip("/")
            parts = urlsplit(ui)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise GalleryConfigError(
                    f"{env_name('dagster_ui_url')}={self.dagster_ui_url!r} is not an http(s) address of the Dagster UI "
                    "(e.g. https://dagster.example.cn)"
                )
            object.__setattr__(self, "dagster_ui_url", ui)
        if self.map_tiles is not None:
            object.__setattr__(self, "map_tiles", check_tiles(self.map_tiles))
        object.__setattr__(self, "allowed_hosts", tuple(h.lower().strip("[]") for h in self.allowed_hosts))

    @classmethod
    def from_env(cls, bind_host: str | None = None) -> GalleryConfig:
        """The configuration from the environment; `bind_host` (what the server listens on) is an allowed Host
        name too when it is a specific address, not a wildcard."""
        knobs = settings()
        password, secret = knobs.gallery_password, knobs.gallery_session_secret
        hosts = []
        if knobs.gallery_public_url:
            hosts.append(host_of(knobs.gallery_public_url))
        if bind_host and bind_host not in WILDCARD_HOSTS:
            hosts.append(bind_host)
        return cls(
            password=password.get_secret_value() if password else None,
            trusted_user_header=(knobs.gallery_trusted_user_header or "").strip().lower() or None,
            session_secret=secret.get_secret_value() if secret else "",
            secure_cookie=knobs.gallery_secure_cookie,
            trusted_proxies=parse_proxies(knobs.gallery_trusted_proxies),
            allowed_hosts=tuple(hosts),
            time_zone=knobs.gallery_time_zone,
            stale_after_h=knobs.gallery_stale_after_h,
            dagster_ui_url=knobs.dagster_ui_url or None,
            map_tiles=(knobs.gallery_map_tiles or "").strip() or None,
            map_attribution=(knobs.gallery_map_attribution or "").strip(),
        )

    @property
    def host_names(self) -> frozenset[str]:
        """Every Host name a request may carry: the configured ones and the loopback names."""
        return frozenset((*self.allowed_hosts, *LOOPBACK_HOSTS))

    def password_ok(self, candidate: str) -> bool:
        if not self.password:
            return False
        return hmac.compare_digest(candidate.encode("utf-8"), self.password.encode("utf-8"))

    def key(self, purpose: str) -> bytes:
        """A key for one purpose (signing browser cookies, opaque installation ids), derived from the secret."""
        return hmac.new(self.session_secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()

    def __repr__(self) -> str:  # never the password or the session secret
        return f"GalleryConfig(password={'set' if self.password else 'unset'}, header={self.trusted_user_header!r})"
