"""The four stages of a station's collection, one module each, in lineage order."""

from pv_assets.assets.manifest import media_manifest
from pv_assets.assets.media import uploaded_media
from pv_assets.assets.records import infrastructure_records
from pv_assets.assets.token import station_token

COLLECTION_ASSETS = [station_token, infrastructure_records, media_manifest, uploaded_media]

__all__ = ["COLLECTION_ASSETS", "infrastructure_records", "media_manifest", "station_token", "uploaded_media"]
