"""A station's photo facts table: computed once per stored photo (and video: video_facts.py), from staging
while the bytes are there.

`StagedFacts` is handed each stored photo's staging file by the preview workers (StagedPreviews) and reads
it there - no read of the store. `finish` gives one row per stored photo of the run: computed now, kept from
the station's last table (same object key and size: a re-run decodes nothing), or - stored before this code
ran, so never seen in staging - read once from the store through range reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pv_assets.evidence.facts import photo_facts
from pv_assets.evidence.video_facts import video_facts
from pv_assets.gallery.previews.bounds import ResourceFailure, TooManyPixels
from pv_assets.gallery.previews.builder import preview_workers
from pv_assets.gallery.previews.plan import plan_previews
from pv_assets.gallery.previews.render import StoreReader, Undecodable
from resources.object_store import ObjectStore, ObjectStoreError

FACTS_COLUMNS = [
    "station_id",
    "record_id",
    "item_id",
    "object_key",
    "size",
    "media_kind",
    "phash",
    "dhash",
    "taken_at",
    "gps_lat",
    "gps_lon",
    "make",
    "model",
    "software",
    "has_camera_data",
    "cpu_s",
    "facts_outcome",  # computed (from staging) / read (from the store) / kept (last table) / failed
    "facts_problem",
    "original_bytes_read",  # from the store; 0 when read in staging
]
COMPUTED, READ, KEPT, FAILED = "computed", "read", "kept", "failed"


@dataclass
class FactsTally:
    computed: int = 0
    read: int = 0
    kept: int = 0
    failed: int = 0
    cpu_s: float = 0.0
    original_bytes_read: int = 0


def facts_targets(outcomes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored photos of uploaded_media rows, each once, with its item id (as its preview row has it)."""
    rows = [task.row for task in plan_previews(outcomes, set(), {}) if task.kind in ("photo", "video")]
    columns = ("station_id", "record_id", "item_id", "object_key", "size", "media_kind")
    return [{c: row.get(c) for c in columns} for row in rows]


def facts_row(target: dict[str, Any], source, max_pixels: int) -> dict[str, Any]:
    """The facts row of one photo; a file that does not decode is a failed row with its reason, never an error."""
    row = {column: None for column in FACTS_COLUMNS} | target
    try:
        if target.get("media_kind") == "video":
            # No EXIF in a video: whether it has camera data stays unknown (None), not False.
            row.update(video_facts(source, max_pixels).row(), has_camera_data=None, facts_outcome=COMPUTED)
        else:
            row.update(photo_facts(source, max_pixels).row(), facts_outcome=COMPUTED)
    except (Undecodable, TooManyPixels, ResourceFailure) as exc:
        row.update(facts_outcome=FAILED, facts_problem=str(exc))
    except ObjectStoreError:
        raise
    except KeyError:
        row.update(facts_outcome=FAILED, facts_problem="original missing from the object store")
    except Exception as exc:  # noqa: BLE001 - one strange file never fails the station
        row.update(facts_outcome=FAILED, facts_problem=f"internal_error: {exc.__class__.__name__}")
    row["original_bytes_read"] = getattr(source, "bytes_fetched", 0)
    return row


def _unchanged(before: dict[str, Any] | None, target: dict[str, Any]) -> bool:
    """Facts of the same object (key and size) that a re-run keeps; a resource failure is tried again."""
    if not before or before.get("size") != target.get("size"):
        return False
    return not str(before.get("facts_problem") or "").startswith("resource")


class StagedFacts:
    """Facts of the photos of one station's run, computed from staging by the preview workers."""

    def __init__(self, previous: dict[str, dict[str, Any]], *, max_pixels: int):
        self.previous, self.max_pixels = previous, max_pixels
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def wants(self, outcome: dict[str, Any]) -> dict[str, Any] | None:
        """The target of a just-stored photo whose facts are not known yet; None for anything else."""
        targets = facts_targets([outcome])
        if not targets or _unchanged(self.previous.get(targets[0]["object_key"]), targets[0]):
            return None
        return targets[0]

    def take(self, target: dict[str, Any], staged) -> None:
        """Read the facts of a photo from its staging file (open, at its start)."""
        row = facts_row(target, staged, self.max_pixels)
        with self._lock:
            self._rows[target["object_key"]] = row

    def finish(
        self,
        store: ObjectStore,
        outcomes: list[dict[str, Any]],
        *,
        workers: int | None = None,
    ) -> tuple[list[dict[str, Any]], FactsTally]:
        """One row per stored photo: from staging, the last table, or (never seen) the store - in that order."""
        rows, todo = [], []
        for target in facts_targets(outcomes):
            key = target["object_key"]
            if key in self._rows:
                rows.append(self._rows[key])
            elif _unchanged(self.previous.get(key), target):
                rows.append({**self.previous[key], **target, "facts_outcome": KEPT, "original_bytes_read": 0})
            else:
                todo.append(target)
        # Decoding runs outside the GIL: the preview workers' number of them at once.
        with ThreadPoolExecutor(max_workers=workers or preview_workers(), thread_name_prefix="facts") as pool:
            rows += list(pool.map(lambda target: _from_store(store, target, self.max_pixels), todo))
        tally = FactsTally()
        for row in rows:
            setattr(tally, row["facts_outcome"], getattr(tally, row["facts_outcome"]) + 1)
            if row["facts_outcome"] != KEPT:
                tally.cpu_s += float(row.get("cpu_s") or 0.0)
            tally.original_bytes_read += int(row.get("original_bytes_read") or 0)
        order = {t["object_key"]: n for n, t in enumerate(facts_targets(outcomes))}
        return sorted(rows, key=lambda row: order[row["object_key"]]), tally


def _from_store(store: ObjectStore, target: dict[str, Any], max_pixels: int) -> dict[str, Any]:
    size = int(target.get("size") or 0)
    if not size:
        stat = store.stat(target["object_key"])
        size = stat.size if stat else 0
    row = facts_row(target, StoreReader(store, target["object_key"], size), max_pixels)
    if row["facts_outcome"] == COMPUTED:
        row["facts_outcome"] = READ
    return row
