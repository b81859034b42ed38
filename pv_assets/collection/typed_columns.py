"""The audit tables' column types, set once before they are written: an auditor opens them in DuckDB or
pandas and finds times as timestamps with their zone, sizes and counts as integers, capacities as numbers.

Without this pandas guesses from the values: a size column with one gap becomes float64, a column of ISO
texts stays text, a column without any value becomes Parquet's null type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Type names, made Arrow types only when a table is typed (the row functions import neither pandas nor Arrow).
INT, FLOAT, TEXT, DATE, BOOL, UTC_TIME = "int64", "float64", "string", "date32", "bool_", "utc_time"

# Column -> Arrow type, per table; columns not named keep what pandas makes of them.
RECORD_TYPES = {
    "updated_at": UTC_TIME,
    "capacity_kw": FLOAT,
    "install_date": DATE,
    "pickup_date": DATE,
    "project_name": TEXT,
    "province": TEXT,
    "city": TEXT,
    "county": TEXT,
    "town": TEXT,
    "village": TEXT,
    "address": TEXT,
    "latitude": FLOAT,
    "longitude": FLOAT,
    "field_warnings": TEXT,
}
MANIFEST_TYPES = {"occurrences": INT, "id_checksum_ok": BOOL}
OUTCOME_TYPES = {**MANIFEST_TYPES, "size": INT, "finished_at": UTC_TIME, "duration_ms": INT}
PREVIEW_TYPES = {
    "size": INT,
    "width": INT,
    "height": INT,
    "duration_s": FLOAT,
    "preview_bytes": INT,
    "original_bytes_read": INT,
}


def arrow_type(name: str):
    import pyarrow as pa

    return pa.timestamp("us", tz="UTC") if name == UTC_TIME else getattr(pa, name)()


def typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The frame with the named columns as Arrow-typed pandas columns (nullable: a gap stays a gap).
    A value that does not fit the type raises: the table's code made it, so it is a bug, not input."""
    import pandas as pd
    import pyarrow as pa

    columns = {}
    for name, type_name in types.items():
        if name in frame.columns:
            values = [None if _missing(v) else v for v in frame[name].tolist()]
            columns[name] = pd.arrays.ArrowExtensionArray(pa.array(values, type=arrow_type(type_name)))
    return frame.assign(**columns) if columns else frame


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)
