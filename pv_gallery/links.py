"""Links into the gallery from elsewhere (the Dagster UI's materialization metadata)."""

from __future__ import annotations

from urllib.parse import quote

from resources.settings import settings


def gallery_station_url(station_id: str) -> str | None:
    """The station's gallery page, when the gallery's public address is configured; else None.

    Read at call time (no module reads the environment at import), e.g. for
    `MetadataValue.url(...)` on a station's gallery_index / media_previews materialization.
    """
    base = (settings().gallery_public_url or "").strip().rstrip("/")
    if not base:
        return None
    return f"{base}/station/{quote(station_id, safe='')}"
