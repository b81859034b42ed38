"""The gallery index as producer (pv_assets) and viewer (pv_gallery) agree on it: where it is, its
columns, and which record fields are about the person and so never shown."""

from __future__ import annotations

import re

GALLERY_PREFIX = "_pv-media/gallery"
INDEX_KEY = f"{GALLERY_PREFIX}/index.parquet"
PIECES_PREFIX = f"{GALLERY_PREFIX}/stations/"

# name, pyarrow type name.
INDEX_COLUMNS: list[tuple[str, str]] = [
    ("item_id", "string"),
    ("region_company_code", "string"),
    ("station_id", "string"),
    ("station_name", "string"),
    ("record_id", "string"),
    ("pickup_status", "string"),
    ("pickup_status_raw", "string"),
    ("id_card_masked", "string"),
    ("record_fields", "string"),
    ("media_kind", "string"),
    ("media_field", "string"),
    ("status", "string"),
    ("failure_reason", "string"),
    ("object_key", "string"),
    ("content_type", "string"),
    ("thumb_key", "string"),
    ("medium_key", "string"),
    ("poster_key", "string"),
    ("preview_problem", "string"),
    ("size", "int64"),
    ("width", "int64"),
    ("height", "int64"),
    ("duration_s", "float64"),
    ("collected_at", "string"),
    # The regional company's name from the registry's `regions:` (null when it names none: show the code).
    ("region_company_name", "string"),
]
INDEX_COLUMN_NAMES = [name for name, _type in INDEX_COLUMNS]

# Fields a station sends about the person, in any dialect: the producer leaves them out of the index,
# the viewer never shows them even if one got in.
_PERSONAL = re.compile(
    r"(owner|customer|user|person|contact|phone|mobile|tel|cert|idcard|id_card|idno|id_no|idnumber|"
    r"身份|电话|手机|联系|户主|姓名|业主)",
    re.IGNORECASE,
)


def is_personal_field(name: str) -> bool:
    return _PERSONAL.search(name) is not None
