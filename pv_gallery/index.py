"""The gallery index, read from the object store and kept in memory while its etag stays the same.

One load sorts the table by station and record, so a station is a zero-copy slice, and computes
the overview figures once; everything a page needs afterwards is a slice, a dict look-up or a
binary search (item ids). The columns are the contract of issue 12 (pv_model/gallery_contract.py).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pv_gallery.health import read_health, with_health
from pv_gallery.installations import RENDITIONS, Installation, build_installations
from pv_gallery.item_lookup import IndexUnreadable, ItemLookup
from pv_gallery.search import SearchTable
from pv_gallery.summaries import region_summaries, station_summaries
from pv_gallery.trends import collection_table, installation_table
from pv_model.gallery_contract import HEALTH_KEY, INDEX_KEY
from resources.object_store import ObjectStore

__all__ = ["INDEX_KEY", "RENDITIONS", "GalleryIndex", "IndexMissing", "IndexSnapshot", "IndexUnreadable"]
log = logging.getLogger("pv_gallery")
CACHED_STATIONS = 256  # stations whose installations stay built

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


class IndexMissing(Exception):
    """No gallery index in the store yet."""


class IndexSnapshot:
    """One version of the index: sorted, with the overview and the item look-up precomputed.

    `secret` keys the installations' opaque ids (pv_gallery.installations.installation_key)."""

    def __init__(self, table: pa.Table, etag: str, secret: bytes | None = None, health: dict | None = None):
        self.etag = etag
        self.secret = secret or secrets.token_bytes(32)
        # One chunk per column: a take across chunks concatenates the whole column first (40 ms a page).
        self.table = table.combine_chunks()
        # Row numbers in (station, record) order: a station's rows are one run of it. Sorting the
        # numbers, not the table, spares a copy of every column (1.3 s at 1,000,000 rows).
        self._order = pc.sort_indices(table, sort_keys=[("station_id", "ascending"), ("record_id", "ascending")])
        indexed, self._rows = station_summaries(self.table)
        # Every registry station the health table lists, collected or not (pv_gallery.health).
        self.stations = with_health(indexed, health or {})
        self.regions = region_summaries(self.stations)
        in_order = sorted(indexed, key=lambda sid: sid.encode("utf-8"))  # Arrow sorts strings by bytes
        offsets = np.cumsum([0] + [self._rows[s] for s in in_order])
        self._slices = {sid: (int(offsets[n]), int(offsets[n + 1] - offsets[n])) for n, sid in enumerate(in_order)}
        self._items = ItemLookup(self.table.column("item_id"))
        self._installations: OrderedDict[str, tuple[list[Installation], dict[str, Installation]]] = OrderedDict()
        self._lock = threading.Lock()
        self._search: SearchTable | None = None
        # The dashboard's per-installation table, built with the version (~1.2 s at 1,000,000 rows) so that
        # its first answer is a filter and a grouping, not a pass over the whole index.
        self._installations_table = installation_table(self.table)
        self.collection_table = collection_table(self.table)

    def station_rows(self, station_id: str) -> pa.Table | None:
        where = self._slices.get(station_id)
        if where is None:
            return None
        start, length = where
        return self.table.take(self._order.slice(start, length))

    def _built(self, station_id: str) -> tuple[list[Installation], dict[str, Installation]] | None:
        with self._lock:
            if station_id in self._installations:
                self._installations.move_to_end(station_id)
                return self._installations[station_id]
        rows = self.station_rows(station_id)
        if rows is None:
            return None
        installations = build_installations(rows, self.secret)
        built = (installations, {i.key: i for i in installations})
        with self._lock:
            self._installations[station_id] = built
            while len(self._installations) > CACHED_STATIONS:
                self._installations.popitem(last=False)
        return built

    def installations(self, station_id: str) -> list[Installation] | None:
        """The station's installations in record order; built once per station and index version."""
        built = self._built(station_id)
        return None if built is None else built[0]

    def installation(self, station_id: str, key: str) -> Installation | None:
        """The installation with this opaque key, or None."""
        built = self._built(station_id)
        return None if built is None else built[1].get(key)

    def search_table(self) -> SearchTable:
        """The global search's table, built on the first search of this version."""
        with self._lock:
            if self._search is None:
                self._search = SearchTable(self.table)
            return self._search

    def installation_table(self) -> pa.Table:
        """One row per installation for the dashboard (pv_gallery.trends)."""
        return self._installations_table

    def item_row(self, item_id: str) -> dict[str, Any] | None:
        """The index row of an item id, or None: unknown ids are simply not found."""
        row = self._items.find(item_id)
        return None if row is None else self.table.slice(row, 1).to_pylist()[0]


class GalleryIndex:
    """The current snapshot of the index in the store; re-checked (one stat) at most every `recheck_s`.

    While a new version loads (seconds at a million rows), other requests keep the version they had.
    """

    def __init__(self, store: ObjectStore, key: str = INDEX_KEY, recheck_s: float = 2.0, secret: bytes | None = None):
        self.store, self.key, self.recheck_s = store, key, recheck_s
        self.secret = secret or secrets.token_bytes(32)
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    def _health(self) -> dict:
        return _read_health_or_none(self.store.get_bytes(HEALTH_KEY))

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
            health_info = self.store.stat(HEALTH_KEY)
            version = f"{info.etag or info.size}|{health_info.etag or health_info.size if health_info else ''}"
            loaded = self._snapshot
            if loaded is None or loaded.etag != version:
                health = self._health() if health_info else {}
                loaded = load_snapshot(self.store.get_bytes(self.key), version, self.secret, health)
            with self._lock:
                self._snapshot, self._checked_at = loaded, time.monotonic()
            return loaded
        finally:
            self._load_lock.release()


def _read_health_or_none(data: bytes) -> dict:
    """The health table, or {} with an error in the log naming it: the pages still show the index."""
    try:
        return read_health(data)
    except (pa.ArrowException, OSError, KeyError) as exc:
        log.error("station health %s unreadable (%s): run the gallery job again (pv-media collect)", HEALTH_KEY, exc)
        return {}


def load_snapshot(data: bytes, version: str, secret: bytes | None = None, health: dict | None = None) -> IndexSnapshot:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise IndexUnreadable(f"not a Parquet file ({exc.__class__.__name__})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise IndexUnreadable(f"columns missing: {', '.join(missing)}")
    return IndexSnapshot(table, version, secret, health)
