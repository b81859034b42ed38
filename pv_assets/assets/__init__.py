"""The stages of a station's collection, one module each, in lineage order; then what a viewer needs."""

from pv_assets.assets.manifest import media_manifest
from pv_assets.assets.media import uploaded_media
from pv_assets.assets.previews import gallery_index, gallery_piece, media_previews
from pv_assets.assets.records import infrastructure_records
from pv_assets.assets.token import station_token

COLLECTION_ASSETS = [station_token, infrastructure_records, media_manifest, uploaded_media]
# What one station's run materializes: the collection, its previews and its piece of the gallery index.
STATION_ASSETS = [*COLLECTION_ASSETS, media_previews, gallery_piece]
ALL_ASSETS = [*STATION_ASSETS, gallery_index]

__all__ = [
    "ALL_ASSETS",
    "COLLECTION_ASSETS",
    "STATION_ASSETS",
    "gallery_index",
    "gallery_piece",
    "infrastructure_records",
    "media_manifest",
    "media_previews",
    "station_token",
    "uploaded_media",
]
