"""The gallery index on the object store: a piece per station, and one whole file merged from them.

- piece: `_pv-media/gallery/stations/{station_id}.parquet`, written by the station's run;
- whole: `_pv-media/gallery/index.parquet`, sorted by station, in row groups, so a viewer's
  pyarrow/DuckDB filter on station_id reads only the row groups of that station.

The partial update: the whole file remembers, in its Parquet metadata, the etag of every piece it
was built from. A rebuild lists the pieces once, reads only those whose etag changed (or that are
new), drops the stations whose piece is gone, and keeps every other row from the previous whole
file - it never re-reads an unchanged station.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pv_model.gallery_contract import INDEX_COLUMNS, INDEX_KEY, PIECES_PREFIX
from resources.conditional_write import VersionConflict, put_if_version, read_versioned
from resources.object_store import ObjectStore, ObjectStoreError

PIECE_ETAGS_META = b"pv_media.piece_etags"
PARQUET = "application/vnd.apache.parquet"
ROW_GROUP_ROWS = 64 * 1024
# Merges that meet another merge start again from the index that one wrote; a merge takes seconds, so a
# few rounds are plenty unless something writes the index in a loop.
MERGE_ATTEMPTS = 8

SCHEMA = pa.schema([pa.field(name, getattr(pa, type_name)()) for name, type_name in INDEX_COLUMNS])


def piece_key(station_id: str) -> str:
    return f"{PIECES_PREFIX}{station_id}.parquet"


def station_of_piece(key: str) -> str:
    return key[len(PIECES_PREFIX) : -len(".parquet")]


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    return buffer.getvalue()


def _read_table(store: ObjectStore, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(store.get_bytes(key)))


def conform(table: pa.Table, schema: pa.Schema = SCHEMA) -> pa.Table:
    """A piece or whole file written before a column was added, with that column empty: one schema."""
    for name in schema.names:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
    return table.select(schema.names).cast(schema)


def write_piece(
    store: ObjectStore, station_id: str, rows: list[dict[str, Any]], key: str | None = None, schema: pa.Schema = SCHEMA
) -> tuple[str, int]:
    key = key or piece_key(station_id)
    data = _parquet_bytes(pa.Table.from_pylist(rows, schema=schema))
    store.put_bytes(key, data, PARQUET)
    return key, len(data)


def read_piece(store: ObjectStore, station_id: str) -> pa.Table | None:
    try:
        return conform(_read_table(store, piece_key(station_id)))
    except KeyError:
        return None


def previous_collected_at(store: ObjectStore, station_id: str) -> dict[str, str]:
    """item id -> collected_at from the station's last piece (a skipped item was stored earlier)."""
    table = read_piece(store, station_id)
    if table is None:
        return {}
    ids, times = table.column("item_id").to_pylist(), table.column("collected_at").to_pylist()
    return {i: t for i, t in zip(ids, times, strict=True) if t}


@dataclass(frozen=True)
class IndexUpdate:
    stations: int
    rows: int
    pieces_read: int
    stations_dropped: int
    bytes: int
    rebuilt_from_scratch: bool
    piece_rows: dict[str, int]  # rows of each piece read this time
    index_rows: dict[str, int]  # rows per station in the new whole file
    listed_stations: frozenset[str]


def _previous_whole(data: bytes | None, schema: pa.Schema) -> tuple[pa.Table | None, dict[str, str]]:
    if data is None:
        return None, {}
    table = pq.read_table(io.BytesIO(data))
    meta = (table.schema.metadata or {}).get(PIECE_ETAGS_META)
    if meta is None:  # not written by this code: rebuild it whole
        return None, {}
    return conform(table, schema), json.loads(meta)


@dataclass(frozen=True)
class Merged:
    table: pa.Table  # the new whole file's rows, sorted, with the pieces' etags in its metadata
    listed: dict[str, str]  # station -> etag of its piece now
    changed: list[str]  # stations whose piece was read
    dropped: list[str]  # stations whose piece is gone
    piece_rows: dict[str, int]
    from_scratch: bool
    bytes: int


def merge_pieces(store: ObjectStore, prefix: str, whole_key: str, schema: pa.Schema, sort: list[str]) -> Merged:
    """Bring a whole file up to date with its per-station pieces under `prefix`, reading only the changed ones.

    Read-modify-write with a conditional write: when another merge wrote the whole file meanwhile, this one
    would put older rows back (and the sensor would see nothing new), so it merges again from that file."""
    for _attempt in range(MERGE_ATTEMPTS):
        try:
            return _merge_once(store, prefix, whole_key, schema, sort)
        except VersionConflict:
            continue
    raise ObjectStoreError(
        f"object store {store.describe()}: {whole_key} was rewritten by other merges {MERGE_ATTEMPTS} times "
        "while this merge ran; the next merge brings it up to date"
    )


def _merge_once(store: ObjectStore, prefix: str, whole_key: str, schema: pa.Schema, sort: list[str]) -> Merged:
    # The whole file first: a piece written after this read is listed below, or changes the file's version.
    data, version = read_versioned(store, whole_key)
    listed = {o.key[len(prefix) : -len(".parquet")]: o.etag or f"size:{o.size}" for o in store.list_prefix(prefix)}
    previous, previous_etags = _previous_whole(data, schema)
    changed = sorted(s for s, etag in listed.items() if previous is None or previous_etags.get(s) != etag)
    dropped = sorted(set(previous_etags) - set(listed))
    parts: list[pa.Table] = []
    piece_rows: dict[str, int] = {}
    if previous is not None:
        replaced = pa.array(changed + dropped, pa.string())
        parts.append(previous.filter(pc.invert(pc.is_in(previous.column("station_id"), value_set=replaced))))
    for station in changed:
        try:
            piece = conform(_read_table(store, f"{prefix}{station}.parquet"), schema)
        except KeyError:  # gone between the listing and the read
            continue
        parts.append(piece)
        piece_rows[station] = piece.num_rows
    merged = pa.concat_tables(parts) if parts else schema.empty_table()
    merged = merged.sort_by([(column, "ascending") for column in sort])
    merged = merged.replace_schema_metadata({PIECE_ETAGS_META: json.dumps(listed, sort_keys=True)})
    data = _parquet_bytes(merged)
    put_if_version(store, whole_key, data, PARQUET, version)
    return Merged(merged, listed, changed, dropped, piece_rows, previous is None, len(data))


def update_index(store: ObjectStore) -> IndexUpdate:
    """Bring the whole index up to date with the pieces, reading only the changed ones."""
    merged = merge_pieces(store, PIECES_PREFIX, INDEX_KEY, SCHEMA, ["station_id", "record_id", "item_id"])
    return IndexUpdate(
        stations=len(merged.listed),
        rows=merged.table.num_rows,
        pieces_read=len(merged.changed),
        stations_dropped=len(merged.dropped),
        bytes=merged.bytes,
        rebuilt_from_scratch=merged.from_scratch,
        piece_rows=merged.piece_rows,
        index_rows=rows_per_station(merged.table),
        listed_stations=frozenset(merged.listed),
    )


def rows_per_station(table: pa.Table) -> dict[str, int]:
    counts = table.group_by("station_id").aggregate([("item_id", "count")])
    return dict(zip(counts.column("station_id").to_pylist(), counts.column("item_id_count").to_pylist(), strict=True))


def read_index(store: ObjectStore, station_id: str | None = None) -> pa.Table:
    """The whole index, or one station's rows (a filter that skips the other row groups)."""
    filters = [("station_id", "=", station_id)] if station_id else None
    return pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY)), filters=filters)
