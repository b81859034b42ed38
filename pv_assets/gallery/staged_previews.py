"""Previews made while a photo's bytes are still in staging, overlapping the station's downloads.

The collector hands each file it has just stored over (`take`): its previews are decoded from the staging
file by a small pool of preview workers - no second read from the object store - and their writes go to
the store from those workers while the collector's own workers go on downloading. The staging file is
deleted when its previews are done (S7 still holds: it goes whatever happens). At most PENDING_BYTES of
files wait for their previews: a collector worker that would add more waits, so staging never fills up
with files the previews cannot keep up with.

What was not stored by this run (skipped: stored before) gets its previews afterwards, read from the store
(`finish`, the builder's way). A preview that fails is a row with its reason, never a failed station; only
an object store that is down stops the station, as it does the collection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pv_assets.evidence.photo_facts import StagedFacts
from pv_assets.gallery.previews.builder import PreviewTally, build_guarded, build_previews, preview_workers
from pv_assets.gallery.previews.plan import plan_previews
from resources.object_store import ObjectStore

# Staging bytes that may wait for their previews: the downloads run ahead of the previews up to this much
# (and free the station's connections sooner), then wait. A single larger file (a video) waits alone.
PENDING_BYTES = 256 * 1024 * 1024


class StagedPreviews:
    """Takes stored files still in staging, makes their previews in the background; `finish` returns every row."""

    def __init__(
        self,
        store: ObjectStore,
        existing: set[str],
        previous: dict[str, dict[str, Any]],
        *,
        max_pixels: int,
        workers: int | None = None,
        pending_bytes: int = PENDING_BYTES,
        log: Callable[[str], None] | None = None,
        facts: StagedFacts | None = None,
    ):
        self.facts = facts  # evidence facts read from the same staging file (pv_assets.evidence)
        self.store, self.existing, self.previous, self.max_pixels = store, existing, previous, max_pixels
        self.workers = workers or preview_workers()
        self.log = log or (lambda message: None)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="preview")
        # Bytes of the files waiting for a preview worker or being read by one, until each is deleted.
        self.pending_bytes = pending_bytes
        self._waiting = 0
        self._room = threading.Condition()
        self._lock = threading.Lock()
        self._futures: list[Future] = []
        self._ready: list[dict[str, Any]] = []  # rows decided without decoding (all previews there, no type)
        self.staged_keys: set[str] = set()  # object keys whose rows come from here

    def take(self, outcome: dict[str, Any], path: Path) -> None:
        """The file of a just-stored item, still in staging: this object deletes it once its previews are done."""
        tasks = plan_previews([outcome], self.existing, self.previous)
        facts_target = self.facts.wants(outcome) if self.facts else None
        task = tasks[0] if tasks and tasks[0].missing else None
        if task is None:
            with self._lock:
                self._ready.extend(task.row for task in tasks)
                self.staged_keys.update(task.row["object_key"] for task in tasks)
            if facts_target is None:
                path.unlink(missing_ok=True)
                return
        size = int(outcome.get("size") or 0)
        with self._room:  # back-pressure: the downloads wait while the previews catch up (one file always fits)
            self._room.wait_for(lambda: self._waiting == 0 or self._waiting + size <= self.pending_bytes)
            self._waiting += size
        try:
            future = self._pool.submit(self._build, task, facts_target, path, size)
        except BaseException:
            self._done_with(size)
            path.unlink(missing_ok=True)
            raise
        with self._lock:
            self._futures.append(future)
            if task is not None:
                self.staged_keys.add(task.row["object_key"])

    def _build(self, task, facts_target, path: Path, size: int) -> dict[str, Any] | None:
        """The previews (a row; None when all were there) and the evidence facts of one staging file."""
        try:
            with open(path, "rb") as staged:
                row = build_guarded(self.store, task, self.max_pixels, staged) if task is not None else None
                if facts_target is not None:
                    staged.seek(0)  # the same file, already in the page cache: no second read of the store
                    self.facts.take(facts_target, staged)
                return row
        finally:
            path.unlink(missing_ok=True)
            self._done_with(size)

    def _done_with(self, size: int) -> None:
        with self._room:
            self._waiting -= size
            self._room.notify_all()

    def finish(self, outcomes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], PreviewTally]:
        """Every preview row of the uploaded_media rows: the staged ones, then the rest from the store."""
        try:
            # A store that is down raises here; None: a file read for its facts only.
            staged = [row for future in self._futures if (row := future.result()) is not None]
        finally:
            self.close()
        rest = [row for row in outcomes if row.get("object_key") not in self.staged_keys]
        others, tally = build_previews(
            self.store, rest, self.previous, workers=self.workers, log=self.log, existing=self.existing
        )
        rows = [*self._ready, *staged]
        for row in rows:
            tally.add(row)
        tally.built_from_staging = sum(row["preview_outcome"] == "built" for row in staged)
        # In the order of the uploaded_media rows, as the builder gives them: not the order the previews finished.
        order = {row.get("object_key"): n for n, row in reversed(list(enumerate(outcomes)))}
        return sorted(rows + others, key=lambda row: order.get(row["object_key"], len(order))), tally

    def close(self) -> None:
        """Stop; wait for the previews under way. Files whose previews never started stay in the run's staging
        directory, which the run removes as it ends."""
        self._pool.shutdown(wait=True, cancel_futures=True)
