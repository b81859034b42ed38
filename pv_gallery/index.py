"""The gallery index, read from the object store and kept in memory while its etag stays the same.

One load sorts the table by station and record, so a station is a zero-copy slice, and computes
the overview figures once; everything a page needs afterwards is a slice, a dict look-up or a
binary search (item ids). The columns are the contract of issue 12 (docs/gallery-contract).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.gallery_contract import INDEX_KEY, is_personal_field
from resources.identity import mask_id_like
from resources.object_store import ObjectStore

RENDITIONS = {"thumb": "thumb_key", "medium": "medium_key", "poster": "poster_key", "original": "object_key"}
CARD_FIELDS = 4  # descriptive fields on a station card; the installation page shows them all


class IndexMissing(Exception):
    """No gallery index in the store yet."""


@dataclass(frozen=True)
class StationSummary:
    region: str
    station_id: str
    station_name: str
    picked_up: int
    with_photo: int
    with_video: int
    media_items: int
    failed: int
    last_collected: str
    region_name: str = ""  # from the registry's regions; empty when it names none

    @property
    def gap(self) -> int:
        """Picked-up installations with no photo at all: the number a supervisor looks for first."""
        return self.picked_up - self.with_photo

    @property
    def region_label(self) -> str:
        """What a person reads: the region's name, its code where no name is known."""
        return self.region_name or self.region


@dataclass
class RegionSummary:
    region: str
    stations: list[StationSummary] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stations)

    @property
    def label(self) -> str:
        return next((s.region_name for s in self.stations if s.region_name), "") or self.region

    @property
    def picked_up(self) -> int:
        return self.total("picked_up")

    @property
    def with_photo(self) -> int:
        return self.total("with_photo")

    @property
    def with_video(self) -> int:
        return self.total("with_video")

    @property
    def media_items(self) -> int:
        return self.total("media_items")

    @property
    def failed(self) -> int:
        return self.total("failed")

    @property
    def gap(self) -> int:
        return self.total("gap")

    @property
    def last_collected(self) -> str:
        return max((s.last_collected for s in self.stations), default="")


@dataclass(frozen=True)
class MediaItem:
    item_id: str
    media_kind: str | None
    status: str
    failure_reason: str | None
    preview_problem: str | None
    has: frozenset[str]  # the renditions that exist (thumb/medium/poster/original)
    width: int | None
    height: int | None
    duration_s: float | None
    size: int | None
    collected_at: str | None


@dataclass
class Installation:
    """One picked-up record of a station. Its counts come from one vectorized pass over the station;
    its media items are built only when a page shows it (a card's cover, the installation page)."""

    record_id: str
    id_card_masked: str
    pickup_status: str
    pickup_status_raw: str
    record_fields: str | None  # the JSON as stored; parsed only when a page shows it
    photo_count: int = 0
    video_count: int = 0
    failed_count: int = 0
    station_rows: pa.Table | None = None  # the station's index rows; this record's are [start, end)
    start: int = 0
    end: int = 0

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        return safe_fields(self.record_fields)

    @functools.cached_property
    def items(self) -> list[MediaItem]:
        if self.station_rows is None:
            return []
        return media_items(self.station_rows.slice(self.start, self.end - self.start))

    @property
    def photos(self) -> list[MediaItem]:
        return [i for i in self.items if i.media_kind == "photo" and i.status == "stored"]

    @property
    def videos(self) -> list[MediaItem]:
        return [i for i in self.items if i.media_kind == "video" and i.status == "stored"]

    @property
    def failed(self) -> list[MediaItem]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def cover(self) -> tuple[str, str] | None:
        """(item_id, rendition) of the card's picture: the first photo's thumb, else a video poster."""
        for item in self.photos:
            if "thumb" in item.has:
                return item.item_id, "thumb"
        for item in self.videos:
            if "poster" in item.has:
                return item.item_id, "poster"
        return None

    @property
    def id_last4(self) -> str:
        return self.id_card_masked[-4:].upper() if self.id_card_masked else ""

    def card_fields(self) -> list[tuple[str, str]]:
        return list(self.fields.items())[:CARD_FIELDS]


def safe_fields(raw: str | None) -> dict[str, str]:
    """The record's descriptive fields, minus personal ones; anything shaped like an ID number masked."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    shown = {}
    for key, value in data.items():
        name = str(key)
        # Personal fields are never shown, even if a station (or a bug upstream) put them into record_fields.
        if is_personal_field(name) or "url" in name.lower() or value is None or value == "":
            continue
        if isinstance(value, float):  # coordinates and capacities: never an ID number, often many digits
            shown[mask_id_like(name)] = str(value)
            continue
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        shown[mask_id_like(name)] = mask_id_like(text)
    return shown


class IndexSnapshot:
    """One version of the index: sorted, with the overview and the item look-up precomputed."""

    def __init__(self, table: pa.Table, etag: str):
        self.etag = etag
        # One chunk per column: a take across chunks concatenates the whole column first (40 ms a page).
        self.table = table.combine_chunks()
        # Row numbers in (station, record) order: a station's rows are one run of it. Sorting the
        # numbers, not the table, spares a copy of every column (1.3 s at 1,000,000 rows).
        self._order = pc.sort_indices(table, sort_keys=[("station_id", "ascending"), ("record_id", "ascending")])
        self.stations = self._summaries()
        self.regions = self._regions()
        in_order = sorted(self.stations, key=lambda sid: sid.encode("utf-8"))  # Arrow sorts strings by bytes
        offsets = np.cumsum([0] + [self._rows[s] for s in in_order])
        self._slices = {sid: (int(offsets[n]), int(offsets[n + 1] - offsets[n])) for n, sid in enumerate(in_order)}
        self._items = ItemLookup(self.table.column("item_id"))
        self._installations: OrderedDict[str, list[Installation]] = OrderedDict()
        self._lock = threading.Lock()

    def _summaries(self) -> dict[str, StationSummary]:
        """All figures in one grouping pass: per condition, a record id column that is null where it fails."""
        t = self.table
        no_record = pa.nulls(t.num_rows, pa.string())
        stored = pc.fill_null(pc.equal(t["status"], "stored"), False)

        def records_where(mask) -> pa.ChunkedArray:
            return pc.if_else(pc.fill_null(mask, False), t["record_id"], no_record)

        kind = t["media_kind"]
        figures = pa.table(
            {
                "station_id": t["station_id"],
                "region": t["region_company_code"],
                # Indexes written before region names existed have no such column: codes are shown.
                "region_name": t["region_company_name"]
                if "region_company_name" in t.column_names
                else pa.nulls(t.num_rows, pa.string()),
                "name": t["station_name"],
                "collected_at": t["collected_at"],
                "row": pa.nulls(t.num_rows, pa.int8()).fill_null(1),
                # Every record in the index is one the station's accepted pickup statuses let through.
                "picked": t["record_id"],
                "photo": records_where(pc.and_(stored, pc.equal(kind, "photo"))),
                "video": records_where(pc.and_(stored, pc.equal(kind, "video"))),
                "item": kind,
                "failed": pc.cast(pc.fill_null(pc.equal(t["status"], "failed"), False), pa.int64()),
            }
        )
        valid = pc.CountOptions(mode="only_valid")
        grouped = figures.group_by("station_id").aggregate(
            [
                ("region", "min"),
                ("region_name", "min"),
                ("name", "min"),
                ("collected_at", "max"),
                ("row", "count"),
                ("picked", "count_distinct", valid),
                ("photo", "count_distinct", valid),
                ("video", "count_distinct", valid),
                ("item", "count", valid),
                ("failed", "sum"),
            ]
        )
        summaries = {}
        self._rows = {}
        for row in grouped.to_pylist():
            sid = row["station_id"]
            self._rows[sid] = row["row_count"]
            summaries[sid] = StationSummary(
                region=row["region_min"] or "",
                station_id=sid,
                station_name=row["name_min"] or sid,
                picked_up=row["picked_count_distinct"],
                with_photo=row["photo_count_distinct"],
                with_video=row["video_count_distinct"],
                media_items=row["item_count"],
                failed=row["failed_sum"] or 0,
                last_collected=row["collected_at_max"] or "",
                region_name=row["region_name_min"] or "",
            )
        return summaries

    def _regions(self) -> dict[str, RegionSummary]:
        regions: dict[str, RegionSummary] = {}
        for summary in self.stations.values():
            regions.setdefault(summary.region, RegionSummary(summary.region)).stations.append(summary)
        return regions

    def station_rows(self, station_id: str) -> pa.Table | None:
        where = self._slices.get(station_id)
        if where is None:
            return None
        start, length = where
        return self.table.take(self._order.slice(start, length))

    def installations(self, station_id: str) -> list[Installation] | None:
        """The station's installations in record order; built once per station and index version."""
        with self._lock:
            if station_id in self._installations:
                self._installations.move_to_end(station_id)
                return self._installations[station_id]
        rows = self.station_rows(station_id)
        if rows is None:
            return None
        built = build_installations(rows)
        with self._lock:
            self._installations[station_id] = built
            while len(self._installations) > 256:
                self._installations.popitem(last=False)
        return built

    def item_row(self, item_id: str) -> dict[str, Any] | None:
        """The index row of an item id, or None: unknown ids are simply not found."""
        row = self._items.find(item_id)
        return None if row is None else self.table.slice(row, 1).to_pylist()[0]


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


def hex16_values(column: pa.ChunkedArray) -> np.ndarray | None:
    """The contract's 16-hex-digit ids as uint64s, straight from Arrow's buffers; None if any id is not one."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0 or array.null_count or array.type not in (pa.string(), pa.large_string()):
        return None
    offset_type = np.int64 if array.type == pa.large_string() else np.int32
    offsets = np.frombuffer(array.buffers()[1], offset_type)[array.offset : array.offset + len(array) + 1]
    if not (np.diff(offsets) == 16).all():
        return None
    nibbles = _HEX[np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 16)]
    if (nibbles == 255).any():
        return None
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64)


class ItemLookup:
    """item id -> row number by binary search over a sorted copy of the ids.

    The contract's ids are 16 hex digits, sorted as uint64s (8 MB and a fraction of a second for
    1,000,000 ids; sorting them as Python strings took seconds). Any other form is not an index
    this viewer reads.
    """

    def __init__(self, column: pa.ChunkedArray):
        keys = hex16_values(column)
        if keys is None:
            raise IndexUnreadable("item_id is not 16 hex digits in every row")
        self._order = np.argsort(keys)
        self._sorted = keys[self._order]

    @staticmethod
    def _key(item_id: str) -> np.uint64 | None:
        return np.uint64(int(item_id, 16)) if _HEX16.match(item_id) else None

    def find(self, item_id: str) -> int | None:
        key = self._key(item_id)
        if key is None or not len(self._sorted):
            return None
        pos = int(np.searchsorted(self._sorted, key))
        if pos >= len(self._sorted) or self._sorted[pos] != key:
            return None
        return int(self._order[pos])


REQUIRED_COLUMNS = [
    "region_company_code",
    "station_id",
    "station_name",
    "record_id",
    "pickup_status",
    "pickup_status_raw",
    "id_card_masked",
    "record_fields",
    "media_kind",
    "status",
    "failure_reason",
    "object_key",
    "content_type",
    "thumb_key",
    "medium_key",
    "poster_key",
    "preview_problem",
    "size",
    "width",
    "height",
    "duration_s",
    "collected_at",
    "item_id",
]
CARD_COLUMNS = [
    "item_id",
    "record_id",
    "pickup_status",
    "pickup_status_raw",
    "id_card_masked",
    "record_fields",
    "media_kind",
    "status",
    "failure_reason",
    "preview_problem",
    "object_key",
    "thumb_key",
    "medium_key",
    "poster_key",
    "width",
    "height",
    "duration_s",
    "size",
    "collected_at",
]


def build_installations(rows: pa.Table) -> list[Installation]:
    """A station's installations (rows sorted by record id), with photo/video/failed counts per record."""
    if rows.num_rows == 0:
        return []
    record_ids = rows.column("record_id").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate(([True], record_ids[1:] != record_ids[:-1])))
    kind = rows.column("media_kind").to_numpy(zero_copy_only=False)
    status = rows.column("status").to_numpy(zero_copy_only=False)
    stored = status == "stored"

    def per_record(mask: np.ndarray) -> list[int]:
        return np.add.reduceat(mask.astype(np.int64), starts).tolist()

    photos, videos = per_record(stored & (kind == "photo")), per_record(stored & (kind == "video"))
    failed = per_record(status == "failed")
    heads = rows.take(pa.array(starts)).select(
        ["record_id", "id_card_masked", "pickup_status", "pickup_status_raw", "record_fields"]
    )
    ends = [*starts[1:].tolist(), rows.num_rows]
    return [
        Installation(
            record_id=head["record_id"],
            id_card_masked=head["id_card_masked"] or "",
            pickup_status=head["pickup_status"] or "",
            pickup_status_raw=head["pickup_status_raw"] or "",
            record_fields=head["record_fields"],
            photo_count=photos[n],
            video_count=videos[n],
            failed_count=failed[n],
            station_rows=rows,
            start=start,
            end=end,
        )
        for n, (head, start, end) in enumerate(zip(heads.to_pylist(), starts.tolist(), ends, strict=True))
    ]


def media_items(rows: pa.Table) -> list[MediaItem]:
    items = []
    for row in rows.select(CARD_COLUMNS).to_pylist():
        if row["media_kind"] is None:
            continue
        items.append(
            MediaItem(
                item_id=row["item_id"],
                media_kind=row["media_kind"],
                status=row["status"] or "",
                failure_reason=mask_id_like(row["failure_reason"] or "") or None,
                preview_problem=row["preview_problem"],
                has=frozenset(r for r, column in RENDITIONS.items() if row[column]),
                width=row["width"],
                height=row["height"],
                duration_s=row["duration_s"],
                size=row["size"],
                collected_at=row["collected_at"],
            )
        )
    return items


class GalleryIndex:
    """The current snapshot of the index in the store; re-checked (one stat) at most every `recheck_s`.

    While a new version loads (seconds at a million rows), other requests keep the version they had.
    """

    def __init__(self, store: ObjectStore, key: str = INDEX_KEY, recheck_s: float = 2.0):
        self.store, self.key, self.recheck_s = store, key, recheck_s
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    def _fresh(self) -> IndexSnapshot | None:
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._checked_at < self.recheck_s:
                return self._snapshot
            return None

    def snapshot(self) -> IndexSnapshot:
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        current = self._snapshot
        if current is not None and not self._load_lock.acquire(blocking=False):
            return current  # another request is checking or loading: serve the version we have
        if current is None:
            self._load_lock.acquire()
        try:
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            info = self.store.stat(self.key)
            if info is None:
                with self._lock:
                    self._snapshot = None
                raise IndexMissing(self.key)
            version = info.etag or f"{info.size}"
            loaded = self._snapshot
            if loaded is None or loaded.etag != version:
                loaded = load_snapshot(self.store.get_bytes(self.key), version)
            with self._lock:
                self._snapshot, self._checked_at = loaded, time.monotonic()
            return loaded
        finally:
            self._load_lock.release()


class IndexUnreadable(Exception):
    """The index is there but is not a gallery index this viewer can read."""


def load_snapshot(data: bytes, version: str) -> IndexSnapshot:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise IndexUnreadable(f"not a Parquet file ({exc.__class__.__name__})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise IndexUnreadable(f"columns missing: {', '.join(missing)}")
    return IndexSnapshot(table, version)
