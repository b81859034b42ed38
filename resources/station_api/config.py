"""What the client is told: its tunables, and the station it talks to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pv_model.registry import Station

USER_AGENT = "pv-media/0.1 (+station media collector)"


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    max_redirects: int = 5
    max_media_bytes: int = 2 * 1024**3
    chunk_bytes: int = 256 * 1024
    max_repeated_pages: int = 3
    # A body trickling in (a hostile or broken host) is cut off: the read timeout is per read only.
    slow_grace_s: float = 30.0
    min_bytes_per_s: float = 8 * 1024
    # Every API reply is capped by its decoded size (a small gzip page can expand to gigabytes).
    max_reply_bytes: int = 64 * 1024**2
    # What one run may fetch of a station's records, counted on their JSON text (pages x records misses 5 KB fields).
    max_records_bytes: int = 512 * 1024**2
    # A total deadline per request, whatever the per-read timeout: an API call, one media download.
    call_deadline_s: float = 120.0
    media_deadline_s: float = 3600.0


@dataclass(frozen=True)
class StationEndpoint:
    """What the client needs to know of one station. The password never shows in repr."""

    station_id: str
    base_url: str
    account: str = field(repr=False)
    password: str = field(repr=False)
    max_connections: int = 4
    media_hosts: tuple[str, ...] = ()
    # Paging bounds from the registry (else the dialect's, else the defaults of records.PagingLimits).
    max_pages: int | None = None
    max_records: int | None = None
    records_deadline_s: float | None = None
    # {name} values for the dialect's calls and URL templates (pv_model.registry.Station.placeholders)
    placeholders: dict[str, str] = field(default_factory=dict)


def station_endpoint(station: Station, max_connections: int | None = None) -> StationEndpoint:
    """What the station client needs of a registry station, credentials read from the environment now."""
    account, password = station.credentials()
    return StationEndpoint(
        station.id,
        station.base_url,
        account,
        password,
        station.max_connections if max_connections is None else max_connections,
        station.media_hosts,
        max_pages=station.max_pages,
        max_records=station.max_records,
        records_deadline_s=station.records_deadline_s,
        placeholders=station.placeholders,
    )
