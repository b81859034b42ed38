"""The evidence files as producer (pv_assets.evidence) and viewer (pv_gallery) agree on them: where, which columns.

Per station a piece of photo facts (`stations/{station}.parquet`); merged into one facts file over the group
(`facts.parquet`: photo GPS and installation coordinates stay there, for the assets); and the findings
(`findings.parquet`) that pages read - a distance or a day gap, never a coordinate.
"""

from __future__ import annotations

EVIDENCE_PREFIX = "_pv-media/evidence"
EVIDENCE_PIECES_PREFIX = f"{EVIDENCE_PREFIX}/stations/"
EVIDENCE_FACTS_KEY = f"{EVIDENCE_PREFIX}/facts.parquet"
FINDINGS_KEY = f"{EVIDENCE_PREFIX}/findings.parquet"
PAIRS_KEY = f"{EVIDENCE_PREFIX}/pairs.parquet"  # the near-duplicate pairs of the last run (for the next one)

# name, pyarrow type name: one row per stored photo, its facts beside its installation's.
FACT_COLUMNS: list[tuple[str, str]] = [
    ("station_id", "string"),
    ("region_code", "string"),
    ("record_id", "string"),
    ("item_id", "string"),
    ("media_kind", "string"),
    ("thumb_key", "string"),
    ("phash", "string"),
    ("dhash", "string"),
    ("taken_at", "string"),
    ("gps_lat", "float64"),
    ("gps_lon", "float64"),
    ("make", "string"),
    ("model", "string"),
    ("software", "string"),
    ("has_camera_data", "bool_"),
    ("facts_outcome", "string"),
    ("installation_lat", "float64"),
    ("installation_lon", "float64"),
    ("install_date", "string"),
    ("pickup_time", "string"),
]
# What a page may show of a suspicious photo (pv_assets.evidence.findings writes these).
FINDING_COLUMNS: list[tuple[str, str]] = [
    ("kind", "string"),
    ("cluster", "int64"),
    ("station_id", "string"),
    ("region_code", "string"),
    ("record_id", "string"),
    ("item_id", "string"),
    ("media_kind", "string"),
    ("thumb_key", "string"),
    ("distance_m", "int64"),
    ("days_gap", "int64"),
    ("hash_bits", "int64"),
    ("installations", "int64"),
]


def arrow_schema(columns: list[tuple[str, str]]):
    import pyarrow as pa

    return pa.schema([pa.field(name, getattr(pa, type_name)()) for name, type_name in columns])
