"""Links into the gallery from elsewhere (the Dagster UI's materialization metadata)."""

from __future__ import annotations

from pv_model.gallery_contract import station_page_url
from resources.settings import settings


def gallery_station_url(station_id: str) -> str | None:
    """The station's gallery page, when the gallery's public address is configured; else None.

    Read at call time (no module reads the environment at import). The rule itself is the producer/viewer
    contract's (pv_model.gallery_contract.station_page_url): pv_assets uses it without importing pv_gallery.
    """
    return station_page_url(settings().gallery_public_url, station_id)
