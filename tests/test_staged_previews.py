"""Previews made from the staging file while the downloads go on (pv_assets/gallery/staged_previews.py):
the collector and the previews with an in-memory station and the local directory store - no socket."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from PIL import Image

from pv_assets.collection.collector import StationCollector
from pv_assets.gallery.previews.plan import PREVIEW_PREFIX
from pv_assets.gallery.staged_previews import StagedPreviews
from resources.object_store import LocalDirObjectStore
from resources.sniff import sniff_media_type
from resources.station_api.media import Downloaded

STATION, REGION = "ST-1", "RC-1"
WAIT_S = 10.0  # an event that never comes fails the test after this long (never reached when the code is right)


def jpeg(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64 + n, 48), (10 * n % 255, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


class FakeStation:
    """Serves `files` by URL into the staging directory, as StationClient.download does."""

    station_id = STATION

    def __init__(self, files: dict[str, bytes], before_download=None):
        self.files, self.before_download = files, before_download or (lambda url: None)
        self.downloads: list[str] = []

    def download(self, url: str, staging_dir: Path) -> Downloaded:
        self.before_download(url)
        data = self.files[url]
        path = staging_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}.part"
        path.write_bytes(data)
        self.downloads.append(url)
        digest = hashlib.sha256(data).hexdigest()
        return Downloaded(path, len(data), digest, sniff_media_type(data[:64]), url, "image/jpeg")


class RecordingStore(LocalDirObjectStore):
    """The local store, counting uploads by key and reads of originals; `on_preview` sees each preview written."""

    def __init__(self, root: Path, on_preview=None):
        super().__init__(root)
        self.uploads: dict[str, int] = {}
        self.originals_read: list[str] = []
        self.on_preview = on_preview or (lambda key: None)
        self._guard = threading.Lock()

    def put_file(self, key, path, content_type, metadata):
        with self._guard:
            self.uploads[key] = self.uploads.get(key, 0) + 1
        return super().put_file(key, path, content_type, metadata)

    def put_bytes(self, key, data, content_type):
        result = super().put_bytes(key, data, content_type)
        if key.startswith(PREVIEW_PREFIX):
            self.on_preview(key)
        return result

    def get_range(self, key, offset, length):
        if not key.startswith("_pv-media/"):
            self.originals_read.append(key)
        return super().get_range(key, offset, length)

    def get_bytes(self, key):
        if not key.startswith("_pv-media/"):
            self.originals_read.append(key)
        return super().get_bytes(key)


def manifest_rows(count: int) -> list[dict]:
    return [
        {"station_id": STATION, "record_id": f"R{n}", "url_hash": f"{n:08x}", "media_field": "photos",
         "source_url": f"http://station.test/files/{n}.jpg", "key_stem": f"{REGION}/{STATION}/110_{n:08x}",
         "problem": None}
        for n in range(count)
    ]  # fmt: skip


def collect(store, station, staging: Path, rows: list[dict], workers: int = 4):
    previews = StagedPreviews(store, set(), {}, max_pixels=10_000_000, workers=2)
    collector = StationCollector(station, store, staging, "run-1", workers=workers, on_stored=previews.take)
    outcomes = collector.run_rows(rows)
    preview_rows, tally = previews.finish(outcomes)
    return outcomes, preview_rows, tally


def test_previews_are_made_from_staging_and_every_file_is_stored_once_with_its_sha256(tmp_path):
    rows = manifest_rows(12)
    files = {row["source_url"]: jpeg(n) for n, row in enumerate(rows)}
    store, staging = RecordingStore(tmp_path / "store"), tmp_path / "staging"
    staging.mkdir()
    outcomes, preview_rows, tally = collect(store, FakeStation(files), staging, rows)

    assert [o["outcome"] for o in outcomes] == ["uploaded"] * 12
    assert sorted(store.uploads.values()) == [1] * 12  # each file stored once
    for row, out in zip(rows, sorted(outcomes, key=lambda o: int(o["record_id"][1:])), strict=True):
        sent = hashlib.sha256(files[row["source_url"]]).hexdigest()
        assert hashlib.sha256(store.get_bytes(out["object_key"])).hexdigest() == out["sha256"] == sent
    store.originals_read.clear()
    assert tally.built == tally.built_from_staging == 12 and tally.failed == 0
    assert [row["object_key"] for row in preview_rows] == [o["object_key"] for o in outcomes]  # the outcomes' order
    assert tally.original_bytes_read == 0  # decoded from staging, never read back from the store
    for row in preview_rows:
        assert row["preview_outcome"] == "built" and row["original_bytes_read"] == 0
        with Image.open(io.BytesIO(store.get_bytes(row["thumb_key"]))) as thumb:
            assert thumb.format == "WEBP" and thumb.size == (row["width"], row["height"])  # small: not scaled
    assert list(staging.iterdir()) == []  # every staging file deleted once its previews were made


def test_previews_overlap_the_downloads(tmp_path):
    """The last downloads wait until a preview has been written: previews made only after the last download
    would never let them go on (they give up after WAIT_S and the items fail)."""
    rows = manifest_rows(10)
    files = {row["source_url"]: jpeg(n) for n, row in enumerate(rows)}
    first_preview = threading.Event()
    late = {row["source_url"] for row in rows[6:]}

    def before_download(url: str) -> None:
        if url in late and not first_preview.wait(WAIT_S):
            raise AssertionError("no preview was written while downloads were still to come")

    store = RecordingStore(tmp_path / "store", on_preview=lambda key: first_preview.set())
    staging = tmp_path / "staging"
    staging.mkdir()
    outcomes, preview_rows, tally = collect(store, FakeStation(files, before_download), staging, rows, workers=2)
    assert [o["outcome"] for o in outcomes] == ["uploaded"] * 10
    assert tally.built_from_staging == 10 and store.originals_read == []


def test_a_preview_that_fails_is_a_row_and_the_item_stays_stored(tmp_path):
    rows = manifest_rows(3)
    broken = jpeg(0)[:200]  # a JPEG cut off after its header: sniffed as JPEG, not decodable
    files = {rows[0]["source_url"]: broken, **{row["source_url"]: jpeg(n) for n, row in enumerate(rows[1:], 1)}}
    store, staging = RecordingStore(tmp_path / "store"), tmp_path / "staging"
    staging.mkdir()
    outcomes, preview_rows, tally = collect(store, FakeStation(files), staging, rows)
    assert [o["outcome"] for o in outcomes] == ["uploaded"] * 3
    by_record = {row["record_id"]: row for row in preview_rows}
    assert by_record["R0"]["preview_outcome"] == "failed"
    assert by_record["R0"]["preview_problem"].startswith("undecodable photo: ")
    assert tally.built == 2 and tally.failed == 1 and list(staging.iterdir()) == []


def test_what_was_stored_before_gets_its_previews_from_the_store(tmp_path):
    rows = manifest_rows(4)
    files = {row["source_url"]: jpeg(n) for n, row in enumerate(rows)}
    store, staging = RecordingStore(tmp_path / "store"), tmp_path / "staging"
    staging.mkdir()
    before = LocalDirObjectStore(tmp_path / "store")
    stored_key = f"{rows[0]['key_stem']}.jpg"
    before.put_bytes(stored_key, files[rows[0]["source_url"]], "image/jpeg")
    station = FakeStation(files)
    outcomes, preview_rows, tally = collect(store, station, staging, rows)
    assert sorted(o["outcome"] for o in outcomes) == ["skipped", "uploaded", "uploaded", "uploaded"]
    assert rows[0]["source_url"] not in station.downloads
    assert tally.built == 4 and tally.built_from_staging == 3
    assert set(store.originals_read) == {stored_key}  # only the one stored before is read from the store


def test_staging_waits_for_the_previews_beyond_its_byte_limit(tmp_path):
    """With room for one file, a second file is not taken while the first one's previews are being made."""
    release = threading.Event()
    store = RecordingStore(tmp_path / "store", on_preview=lambda key: release.wait(WAIT_S))
    staging = tmp_path / "staging"
    staging.mkdir()
    previews = StagedPreviews(store, set(), {}, max_pixels=10_000_000, workers=2, pending_bytes=1)
    outcomes = []
    for n, row in enumerate(manifest_rows(2)):
        data = jpeg(n)
        key = f"{row['key_stem']}.jpg"
        store.put_bytes(key, data, "image/jpeg")
        (staging / f"{n}.part").write_bytes(data)
        outcomes.append({**row, "outcome": "uploaded", "object_key": key, "size": len(data)})
    previews.take(outcomes[0], staging / "0.part")
    second = threading.Thread(target=previews.take, args=(outcomes[1], staging / "1.part"))
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive()  # waiting: the first file's previews are not done
    release.set()
    second.join(WAIT_S)
    assert not second.is_alive()
    rows, tally = previews.finish(outcomes)
    assert tally.built_from_staging == 2 and list(staging.iterdir()) == []
