"""The station cloud client: one object per station and run, as callers know it.

It puts together the session (login, token, authorised calls), the records reader and the
media downloader; each of those answers one question in its own module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pv_model.dialect import StationInterface
from resources.net_guard import MediaUrlPolicy
from resources.station_api.config import ClientSettings, StationEndpoint
from resources.station_api.media import Downloaded, MediaDownloader
from resources.station_api.records import RecordsReader
from resources.station_api.session import SessionRecord, StationSession


class StationClient:
    """One station's connection: login (S1), station info, records (S2/b) and media downloads (d1-d2)."""

    def __init__(
        self,
        endpoint: StationEndpoint,
        interface: StationInterface,
        settings: ClientSettings | None = None,
        **session_options: Any,
    ):
        """`session_options` go to StationSession: `sleep`, `resolver` (tests), `pool_size`."""
        self.session = StationSession(endpoint, interface, settings, **session_options)
        self._records = RecordsReader(self.session)
        self._media = MediaDownloader(self.session)

    @property
    def endpoint(self) -> StationEndpoint:
        return self.session.endpoint

    @property
    def interface(self) -> StationInterface:
        return self.session.interface

    @interface.setter
    def interface(self, interface: StationInterface) -> None:
        self.session.interface = interface

    @property
    def settings(self) -> ClientSettings:
        return self.session.settings

    @property
    def station_id(self) -> str:
        return self.session.station_id

    @property
    def policy(self) -> MediaUrlPolicy:
        return self.session.policy

    @policy.setter
    def policy(self, policy: MediaUrlPolicy) -> None:
        self.session.policy = policy

    @property
    def session_record(self) -> SessionRecord | None:
        return self.session.session_record

    def login(self) -> SessionRecord:
        return self.session.login()

    def station_info(self) -> dict[str, Any]:
        return self._records.station_info()

    def iter_records(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        return self._records.iter_records(updated_since)

    def probe_changes(self, updated_since: datetime | None) -> tuple[int | None, int]:
        return self._records.probe_changes(updated_since)

    def download(self, url: str, staging_dir: Path, max_bytes: int | None = None) -> Downloaded:
        return self._media.download(url, staging_dir, max_bytes)

    def close(self) -> None:
        self.session.close()
