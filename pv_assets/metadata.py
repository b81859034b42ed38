"""Materialization metadata: column schema, a masked preview, and where the objects are."""

from __future__ import annotations

from urllib.parse import unquote

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema

from pv_model.identity import mask_id, mask_id_like, mask_ids_in
from pv_model.keys import mask_key
from pv_model.scrub import redact_link_secrets
from pv_model.urls import url_identity

# A preview shows ID numbers masked and leaves the other personal fields out.
PREVIEW_ROWS = 5
_ID_COLUMNS = {"id_card_no", "idCardNo"}
_SENSITIVE = {"phone", "ownerName", "address"}


def column_schema(frame: pd.DataFrame) -> TableSchema:
    return TableSchema(columns=[TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def _masked_cell(column: str, value: object, row_ids: set[str]) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    if column in _ID_COLUMNS:
        return mask_id(text.strip())
    if column in ("object_key", "key_stem"):
        return mask_key(text)
    if column.endswith("url"):
        # Signatures out, escapes decoded, so an ID number in a file name is seen - and masked.
        text = unquote(url_identity(text)) if "://" in text else unquote(text)
    return mask_id_like(mask_ids_in(redact_link_secrets(text), row_ids))[:100]


def masked_preview(frame: pd.DataFrame, columns: list[str], rows: int = PREVIEW_ROWS) -> MetadataValue:
    """A small Markdown table of the first rows, ID numbers masked, personal fields left out."""
    shown = [c for c in columns if c in frame.columns and c not in _SENSITIVE]
    head = frame.head(rows)
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for record in head.to_dict("records"):
        row_ids = {str(record[c]).strip() for c in _ID_COLUMNS if isinstance(record.get(c), str)}
        cells = [_masked_cell(c, record.get(c), row_ids).replace("|", "\\|") for c in shown]
        lines.append("| " + " | ".join(cells) + " |")
    return MetadataValue.md("\n".join(lines))


def frame_metadata(frame: pd.DataFrame, preview_columns: list[str]) -> dict[str, object]:
    return {
        "dagster/column_schema": column_schema(frame),
        "dagster/row_count": len(frame),
        "preview": masked_preview(frame, preview_columns),
    }
