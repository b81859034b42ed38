"""Links into the gallery from elsewhere (the Dagster UI's materialization metadata)."""

from __future__ import annotations

import os
from urllib.parse import quote

PUBLIC_URL_ENV = "PV_GALLERY_PUBLIC_URL"


def gallery_station_url(station_id: str) -> str | None:
    """The station's gallery page, when the gallery's public address is configured; else None.

    Read at call time (no module reads the environment at import), e.g. for
    `MetadataValue.url(...)` on a station's gallery_index / media_previews materialization.
    """
    base = (os.environ.get(PUBLIC_URL_ENV) or "").strip().rstrip("/")
    if not base:
        return None
    return f"{base}/station/{quote(station_id, safe='')}"
