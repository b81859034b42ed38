"""The stages of a station's collection, one module each, in lineage order; then what a viewer needs."""

from pv_assets.collection.infrastructure_records import infrastructure_records
from pv_assets.collection.manifest import media_manifest
from pv_assets.collection.token import station_token
from pv_assets.collection.uploaded_media import uploaded_media
from pv_assets.evidence.group import photo_evidence
from pv_assets.evidence.station import evidence_piece
from pv_assets.gallery.assets import gallery_index, gallery_piece

# uploaded_media is one step that materializes three assets: uploaded_media, media_previews and photo_facts.
COLLECTION_ASSETS = [station_token, infrastructure_records, media_manifest, uploaded_media]
# What one station's run materializes: the collection, its previews and its piece of the gallery index.
STATION_ASSETS = [*COLLECTION_ASSETS, gallery_piece, evidence_piece]
media_previews = uploaded_media  # the definition that materializes media_previews
photo_facts = uploaded_media  # and photo_facts
ALL_ASSETS = [*STATION_ASSETS, gallery_index, photo_evidence]

__all__ = [
    "ALL_ASSETS",
    "COLLECTION_ASSETS",
    "evidence_piece",
    "STATION_ASSETS",
    "gallery_index",
    "gallery_piece",
    "infrastructure_records",
    "media_manifest",
    "media_previews",
    "photo_evidence",
    "photo_facts",
    "station_token",
    "uploaded_media",
]
