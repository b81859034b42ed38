"""Collecting one station's media: skip what is stored, else download,
check, upload, delete - with a bounded pool of workers, one outcome row per manifest row.

A failed media item never fails the station: it becomes a `failed` row with its reason, and
the next run retries it. Only a broken object store stops the station, since then nothing
can be stored at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pv_assets.collection.manifest_rows import MANIFEST_COLUMNS, plain_rows
from pv_assets.collection.typed_columns import OUTCOME_TYPES, typed
from pv_model.keys import key_prefix, mask_key, object_key, stem_of
from resources.object_store import ObjectRejected, ObjectStore, ObjectStoreError, StoredObject
from resources.station_api import LoginFailed, MediaFailure, StationClient

if TYPE_CHECKING:
    import pandas as pd

# Failures that end the whole station: nothing can be stored, or the station refuses our login.
STATION_ABORTS = (ObjectStoreError, LoginFailed)
# The reason of a row refused before download for what the station sent (a bad URL, no ID number...).
INVALID_INPUT = "invalid_input"

OUTCOME_COLUMNS = [
    *MANIFEST_COLUMNS,
    "outcome",
    "reason",
    "object_key",
    "size",
    "sha256",
    "media_type",
    "http_content_type",
    "run_id",
    "finished_at",
    "duration_ms",
]
UPLOADED, SKIPPED, FAILED = "uploaded", "skipped", "failed"


@dataclass(frozen=True)
class Progress:
    station_id: str
    done: int
    total: int
    bytes: int


@dataclass
class Tally:
    uploaded: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0

    def add(self, row: dict[str, Any]) -> None:
        setattr(self, row["outcome"], getattr(self, row["outcome"]) + 1)
        if row["outcome"] == UPLOADED:
            self.bytes += int(row["size"] or 0)


def stored_listing(store: ObjectStore, keys: Iterable[str]) -> list[StoredObject]:
    """Every object under the prefixes of the given keys or stems: one listing per prefix."""
    prefixes = sorted({key_prefix(key) for key in keys})
    return [obj for prefix in prefixes for obj in store.list_prefix(prefix)]


def stored_index(store: ObjectStore, stems: list[str]) -> dict[str, StoredObject]:
    """What is already stored, by key stem: no request per object."""
    return {stem_of(obj.key): obj for obj in stored_listing(store, stems)}


def _outcome(row: dict[str, Any], outcome: str, run_id: str, started: float, **fields: Any) -> dict[str, Any]:
    base = {column: None for column in OUTCOME_COLUMNS}
    base.update(row)
    base.update(
        outcome=outcome,
        run_id=run_id,
        finished_at=datetime.now(UTC),
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    base.update(fields)
    return base


def object_metadata(row: dict[str, Any], sha256: str, run_id: str) -> dict[str, str]:
    """Provenance carried by every object (design: Object keys)."""
    return {
        "station": str(row["station_id"]),
        "record-id": str(row["record_id"]),
        "content-sha256": sha256,
        "source-url-hash": str(row["url_hash"]),
        "media-field": str(row["media_field"]),
        "run-id": run_id,
    }


class StationCollector:
    def __init__(
        self,
        client: StationClient,
        store: ObjectStore,
        staging_dir: Path,
        run_id: str,
        *,
        workers: int,
        log: Callable[[str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_every_s: float = 5.0,
        on_stored: Callable[[dict[str, Any], Path], None] | None = None,
    ):
        self.client, self.store, self.staging_dir, self.run_id = client, store, staging_dir, run_id
        self.workers = max(1, workers)
        self.log = log or (lambda message: None)
        self.on_progress = on_progress or (lambda progress: None)
        self.progress_every_s = progress_every_s
        # Takes an uploaded item's row and its staging file, and deletes the file when done with it (previews).
        self.on_stored = on_stored
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.tally = Tally()
        self.stored_before: list[StoredObject] = []  # what the run's one listing found

    def collect_one(self, row: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        try:
            downloaded = self.client.download(row["source_url"], self.staging_dir)
        except MediaFailure as exc:
            return _outcome(row, FAILED, self.run_id, started, reason=f"{exc.reason}: {exc.detail}")
        try:
            key = object_key(row["key_stem"], downloaded.media_type.extension)
            self.store.put_file(
                key, downloaded.path, downloaded.media_type.mime, object_metadata(row, downloaded.sha256, self.run_id)
            )
        except ObjectRejected as exc:  # this object only; a store that is down still stops the station
            downloaded.path.unlink(missing_ok=True)  # the staging file goes, whatever happened
            return _outcome(row, FAILED, self.run_id, started, reason=f"store_rejected: {exc}")
        except BaseException:
            downloaded.path.unlink(missing_ok=True)
            raise
        outcome = _outcome(
            row,
            UPLOADED,
            self.run_id,
            started,
            object_key=key,
            size=downloaded.size,
            sha256=downloaded.sha256,
            media_type=downloaded.media_type.mime,
            http_content_type=downloaded.content_type_header,
        )
        self._hand_on(outcome, downloaded.path)
        return outcome

    def _hand_on(self, outcome: dict[str, Any], path: Path) -> None:
        """S7: the staging file goes now, or - handed on to `on_stored` (previews) - when that is done with it.
        The item is stored either way: whatever goes wrong handing it on is not the item's failure."""
        if self.on_stored is None:
            path.unlink(missing_ok=True)
            return
        try:
            self.on_stored(outcome, path)
        except STATION_ABORTS:
            raise
        except Exception as exc:  # noqa: BLE001 - its previews are made from the store at the end instead
            path.unlink(missing_ok=True)
            self.log(f"previews of {mask_key(outcome['object_key'])} left to the end: {exc.__class__.__name__}")

    def _guarded(self, row: dict[str, Any]) -> dict[str, Any]:
        if self._stopping.is_set():
            return _outcome(row, FAILED, self.run_id, time.monotonic(), reason="cancelled: the run was stopped")
        try:
            return self.collect_one(row)
        except STATION_ABORTS:
            raise
        except Exception as exc:  # one broken item must never fail the station
            return _outcome(
                row, FAILED, self.run_id, time.monotonic(), reason=f"internal_error: {exc.__class__.__name__}"
            )

    def run(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """The uploaded_media table for a manifest table."""
        import pandas as pd  # only the tables need pandas; the collection works on plain rows

        return typed(pd.DataFrame(self.run_rows(plain_rows(manifest)), columns=OUTCOME_COLUMNS), OUTCOME_TYPES)

    def run_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One outcome row per manifest row."""
        self.store.ensure_ready()
        index = stored_index(self.store, [r["key_stem"] for r in rows if r.get("key_stem")])
        self.stored_before = list(index.values())
        results: list[dict[str, Any]] = []
        todo: list[dict[str, Any]] = []
        for row in rows:
            started = time.monotonic()
            if row.get("problem"):
                results.append(_outcome(row, FAILED, self.run_id, started, reason=f"{INVALID_INPUT}: {row['problem']}"))
            elif row["key_stem"] in index:
                stored = index[row["key_stem"]]
                results.append(
                    _outcome(
                        row,
                        SKIPPED,
                        self.run_id,
                        started,
                        object_key=stored.key,
                        size=stored.size,
                        reason="already stored",
                    )
                )
            else:
                todo.append(row)
        for row in results:
            self.tally.add(row)
        total = len(rows)
        self.log(
            f"{len(todo)} to download, {self.tally.skipped} already stored, "
            f"{self.tally.failed} refused before download; {self.workers} workers"
        )
        last_report = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="collect")
        try:
            pending = {pool.submit(self._guarded, row) for row in todo}
            while pending:
                done, pending = wait(pending, timeout=self.progress_every_s, return_when=FIRST_EXCEPTION)
                for future in done:
                    row = future.result()  # a station abort propagates from here
                    results.append(row)
                    self.tally.add(row)
                    if row["outcome"] == FAILED:
                        self.log(f"failed {mask_key(row['key_stem'] or '') or row['record_id']}: {row['reason']}")
                self.on_progress(Progress(self.client.station_id, len(results), total, self.tally.bytes))
                if time.monotonic() - last_report >= self.progress_every_s and pending:
                    last_report = time.monotonic()
                    self.log(f"progress: {len(results)}/{total} items, {self.tally.bytes} bytes stored")
        except BaseException:
            # A station abort, or the run being terminated: start nothing new, let running items finish.
            self._stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results
