"""The gallery index, read from the object store and kept in memory while its etag stays the same.

One load sorts the table by station and record, so a station is a zero-copy slice, and computes
the overview figures once; everything a page needs afterwards is a slice, a dict look-up or a
binary search (item ids). The columns are the contract of issue 12 (docs/gallery-contract).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pv_assets.media.identity import mask_id_like
from resources.object_store import ObjectStore

INDEX_KEY = "_pv-media/gallery/index.parquet"
PICKED_UP = "picked_up"
RENDITIONS = {"thumb": "thumb_key", "medium": "medium_key", "poster": "poster_key", "original": "object_key"}
# Never shown, even if a station (or a bug upstream) puts them into record_fields.
PERSONAL_FIELDS = {"idcardno", "id_card_no", "idcard", "ownername", "owner_name", "owner", "phone", "mobile", "tel"}
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

    @property
    def gap(self) -> int:
        """Picked-up installations with no photo at all: the number a supervisor looks for first."""
        return self.picked_up - self.with_photo


@dataclass
class RegionSummary:
    region: str
    stations: list[StationSummary] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stations)

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
    """One picked-up record of a station, with its media items."""

    record_id: str
    id_card_masked: str
    pickup_status: str
    pickup_status_raw: str
    fields: dict[str, str]
    items: list[MediaItem] = field(default_factory=list)

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
        if name.lower() in PERSONAL_FIELDS or "url" in name.lower() or value is None or value == "":
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
        self.table = table.sort_by([("station_id", "ascending"), ("record_id", "ascending")]).combine_chunks()
        self.stations = self._summaries()
        self.regions = self._regions()
        counts = [s.station_id for s in sorted(self.stations.values(), key=lambda s: s.station_id)]
        offsets = np.cumsum([0] + [self._rows[s] for s in counts])
        self._slices = {sid: (int(offsets[n]), int(offsets[n + 1] - offsets[n])) for n, sid in enumerate(counts)}
        ids = np.asarray(self.table.column("item_id").to_numpy(zero_copy_only=False), dtype="S")
        self._id_order = np.argsort(ids, kind="stable")
        self._ids_sorted = ids[self._id_order]
        self._installations: OrderedDict[str, list[Installation]] = OrderedDict()
        self._lock = threading.Lock()

    def _summaries(self) -> dict[str, StationSummary]:
        t = self.table
        base = t.group_by("station_id").aggregate(
            [
                ("region_company_code", "min"),
                ("station_name", "min"),
                ("record_id", "count_distinct"),
                ("collected_at", "max"),
                ("item_id", "count"),
            ]
        )
        self._rows = dict(zip(base["station_id"].to_pylist(), base["item_id_count"].to_pylist(), strict=True))

        def distinct_records(mask) -> dict[str, int]:
            part = t.filter(mask).group_by("station_id").aggregate([("record_id", "count_distinct")])
            return dict(zip(part["station_id"].to_pylist(), part["record_id_count_distinct"].to_pylist(), strict=True))

        def rows(mask) -> dict[str, int]:
            part = t.filter(mask).group_by("station_id").aggregate([("item_id", "count")])
            return dict(zip(part["station_id"].to_pylist(), part["item_id_count"].to_pylist(), strict=True))

        stored = pc.equal(t["status"], "stored")
        picked = pc.equal(t["pickup_status"], PICKED_UP)
        picked_records = distinct_records(picked)
        photos = distinct_records(pc.and_(pc.and_(stored, pc.equal(t["media_kind"], "photo")), picked))
        videos = distinct_records(pc.and_(pc.and_(stored, pc.equal(t["media_kind"], "video")), picked))
        items = rows(pc.is_valid(t["media_kind"]))
        failed = rows(pc.equal(t["status"], "failed"))
        summaries = {}
        for row in base.to_pylist():
            sid = row["station_id"]
            summaries[sid] = StationSummary(
                region=row["region_company_code_min"] or "",
                station_id=sid,
                station_name=row["station_name_min"] or sid,
                picked_up=picked_records.get(sid, 0),
                with_photo=photos.get(sid, 0),
                with_video=videos.get(sid, 0),
                media_items=items.get(sid, 0),
                failed=failed.get(sid, 0),
                last_collected=row["collected_at_max"] or "",
            )
        return summaries

    def _regions(self) -> dict[str, RegionSummary]:
        regions: dict[str, RegionSummary] = {}
        for summary in self.stations.values():
            regions.setdefault(summary.region, RegionSummary(summary.region)).stations.append(summary)
        return regions

    def station_rows(self, station_id: str) -> pa.Table | None:
        where = self._slices.get(station_id)
        return None if where is None else self.table.slice(*where)

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
        """The index row of an item id (binary search), or None: unknown ids are simply not found."""
        try:
            needle = np.asarray(item_id.encode("ascii"), dtype=self._ids_sorted.dtype)
        except (UnicodeEncodeError, ValueError):
            return None
        if len(item_id) > self._ids_sorted.dtype.itemsize:
            return None
        pos = int(np.searchsorted(self._ids_sorted, needle))
        if pos >= len(self._ids_sorted) or self._ids_sorted[pos] != needle:
            return None
        return self.table.slice(int(self._id_order[pos]), 1).to_pylist()[0]


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
    columns = {name: rows.column(name).to_pylist() for name in CARD_COLUMNS}
    installations: list[Installation] = []
    current: Installation | None = None
    for n in range(rows.num_rows):
        record_id = columns["record_id"][n]
        if current is None or current.record_id != record_id:
            current = Installation(
                record_id=record_id,
                id_card_masked=columns["id_card_masked"][n] or "",
                pickup_status=columns["pickup_status"][n] or "",
                pickup_status_raw=columns["pickup_status_raw"][n] or "",
                fields=safe_fields(columns["record_fields"][n]),
            )
            installations.append(current)
        if columns["media_kind"][n] is None:
            continue
        current.items.append(
            MediaItem(
                item_id=columns["item_id"][n],
                media_kind=columns["media_kind"][n],
                status=columns["status"][n] or "",
                failure_reason=mask_id_like(columns["failure_reason"][n] or "") or None,
                preview_problem=columns["preview_problem"][n],
                has=frozenset(r for r, column in RENDITIONS.items() if columns[column][n]),
                width=columns["width"][n],
                height=columns["height"][n],
                duration_s=columns["duration_s"][n],
                size=columns["size"][n],
                collected_at=columns["collected_at"][n],
            )
        )
    return installations


class GalleryIndex:
    """The current snapshot of the index in the store; re-checked (one stat) at most every `recheck_s`."""

    def __init__(self, store: ObjectStore, key: str = INDEX_KEY, recheck_s: float = 2.0):
        self.store, self.key, self.recheck_s = store, key, recheck_s
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def snapshot(self) -> IndexSnapshot:
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked_at < self.recheck_s:
                return self._snapshot
            info = self.store.stat(self.key)
            if info is None:
                self._snapshot = None
                raise IndexMissing(self.key)
            self._checked_at = now
            version = info.etag or f"{info.size}"
            if self._snapshot is None or self._snapshot.etag != version:
                data = self.store.get_bytes(self.key)
                self._snapshot = IndexSnapshot(pq.read_table(pa.BufferReader(data)), version)
            return self._snapshot
