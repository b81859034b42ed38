"""Building one station's previews: one listing decides what exists, only the rest is read.

A re-run lists the station's preview prefix once and skips every item whose previews are all
there - without reading its original. An original that cannot be decoded becomes a row with its
reason; only a broken object store stops the station.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pv_assets.gallery.previews.bounds import RESOURCE, ResourceFailure, TooManyPixels
from pv_assets.gallery.previews.plan import (
    BUILT,
    FAILED,
    PREVIEW_CONTENT_TYPE,
    SKIPPED,
    PreviewTask,
    plan_previews,
    region_station_of,
    station_preview_prefix,
)
from pv_assets.gallery.previews.render import StoreReader, Undecodable, photo_previews, video_poster
from resources.object_store import ObjectStore, ObjectStoreError
from resources.settings import settings

PREVIEW_WORKERS_ENV = "PV_PREVIEW_WORKERS"


def preview_workers() -> int:
    """Decoding is CPU work that Pillow and PyAV do outside the GIL: about one worker per core."""
    configured = os.environ.get(PREVIEW_WORKERS_ENV)
    return max(1, int(configured)) if configured else max(1, min(4, os.cpu_count() or 1))


@dataclass
class PreviewTally:
    built: int = 0
    skipped: int = 0
    failed: int = 0
    preview_bytes: int = 0
    original_bytes_read: int = 0
    built_from_staging: int = 0  # decoded from the staging file while the collection went on
    listed_keys: frozenset[str] = frozenset()  # the run's one listing of the preview prefixes

    def add(self, row: dict[str, Any]) -> None:
        setattr(self, row["preview_outcome"], getattr(self, row["preview_outcome"]) + 1)
        self.preview_bytes += int(row.get("preview_bytes") or 0)
        self.original_bytes_read += int(row.get("original_bytes_read") or 0)


def listed_preview_keys(store: ObjectStore, object_keys: list[str]) -> set[str]:
    """Every preview key of the stations these objects belong to: one listing per station prefix."""
    prefixes = sorted({station_preview_prefix(*region_station_of(key)) for key in object_keys})
    return {obj.key for prefix in prefixes for obj in store.list_prefix(prefix)}


def build_one(store: ObjectStore, task: PreviewTask, max_pixels: int | None = None, staged=None) -> dict[str, Any]:
    """Read the original once, write its missing previews; a row with the outcome either way.

    `staged`: the original's bytes as a seekable file still in staging (read there, not from the store).
    The problem says whose fault a failure is: `undecodable ...` and `too_many_pixels: ...` are the
    file's (kept as they are), `resource: ...` is this run's (retried on the next one)."""
    row = dict(task.row)
    key = row["object_key"]
    reader = staged or StoreReader(store, key, int(row["size"] or 0) or _size_of(store, key))
    try:
        if task.kind == "photo":
            made = photo_previews(reader, max_pixels)
            files = {"thumb_key": made.thumb, "medium_key": made.medium}
            row.update(width=made.width, height=made.height)
        else:
            poster = video_poster(reader, max_pixels)
            files = {"poster_key": poster.poster}
            row.update(width=poster.width, height=poster.height, duration_s=poster.duration_s)
    except (Undecodable, TooManyPixels, ResourceFailure) as exc:
        row.update(preview_outcome=FAILED, preview_problem=str(exc), original_bytes_read=_fetched(reader))
        return row
    except KeyError:
        row.update(preview_outcome=FAILED, preview_problem="original missing from the object store")
        return row
    for column, data in files.items():
        store.put_bytes(task.keys[column], data, PREVIEW_CONTENT_TYPE)
    row.update(task.keys)
    row.update(
        preview_outcome=BUILT,
        preview_bytes=sum(len(data) for data in files.values()),
        original_bytes_read=_fetched(reader),
    )
    return row


def _fetched(reader) -> int:
    """Bytes of the original read from the object store (none when it was read in staging)."""
    return getattr(reader, "bytes_fetched", 0)


def _size_of(store: ObjectStore, key: str) -> int:
    stored = store.stat(key)
    if stored is None:
        raise KeyError(key)
    return stored.size


def build_guarded(store: ObjectStore, task: PreviewTask, max_pixels: int, staged=None) -> dict[str, Any]:
    """build_one, where nothing but a broken object store raises: any other failure is the row's."""
    try:
        return build_one(store, task, max_pixels, staged)
    except ObjectStoreError:
        raise
    except MemoryError:  # encoding or resizing ran out: the next run tries again
        row = dict(task.row)
        row.update(preview_outcome=FAILED, preview_problem=f"{RESOURCE}: out of memory; retried on the next run")
        return row
    except Exception as exc:  # one broken file must never fail the station
        row = dict(task.row)
        row.update(preview_outcome=FAILED, preview_problem=f"internal_error: {exc.__class__.__name__}")
        return row


def build_previews(
    store: ObjectStore,
    outcomes: list[dict[str, Any]],
    previous: dict[str, dict[str, Any]] | None = None,
    *,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
    existing: set[str] | None = None,
) -> tuple[list[dict[str, Any]], PreviewTally]:
    """One preview row per stored object of the uploaded_media rows, and the tally.

    `existing`: the preview keys the run's one listing found (listed here when not given)."""
    if existing is None:
        keys = [row["object_key"] for row in outcomes if row.get("object_key")]
        existing = listed_preview_keys(store, keys) if keys else set()
    tasks = plan_previews(outcomes, existing, previous or {})
    done = [task.row for task in tasks if not task.missing]
    todo = [task for task in tasks if task.missing]
    if log:
        log(f"previews: {len(todo)} to build, {len(done)} already there (one listing)")
    tally = PreviewTally(listed_keys=frozenset(existing))
    max_pixels = settings().preview_max_pixels
    with ThreadPoolExecutor(max_workers=workers or preview_workers(), thread_name_prefix="preview") as pool:
        built = list(pool.map(lambda task: build_guarded(store, task, max_pixels), todo))
    rows = done + built
    for row in rows:
        tally.add(row)
    return rows, tally


__all__ = [
    "BUILT",
    "FAILED",
    "SKIPPED",
    "PreviewTally",
    "build_guarded",
    "build_previews",
    "listed_preview_keys",
    "preview_workers",
]
